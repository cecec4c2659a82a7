// What each scope means, in the words a person reads on the consent page
// (scope.* in the catalogue).
import { msg, type Message } from '../ui/catalogue.ts';

const KNOWN = new Set(['openid', 'profile', 'email', 'offline_access']);

export function describeScopes(scopes: string[], resources: Record<string, string[]> = {}): Message[] {
  const lines = scopes.map((s) => (KNOWN.has(s) ? msg(`scope.${s}`) : msg('scope.other', { scope: s })));
  for (const [resource, list] of Object.entries(resources)) {
    for (const s of list) lines.push(msg('scope.otherAt', { scope: s, resource }));
  }
  // "Know who you are" alone is implied by signing in; show it only if it is all there is.
  return lines.length > 1 ? lines.filter((l) => l.key !== 'scope.openid') : lines;
}
