// What each scope means, in the words a person reads on the consent page.
const DESCRIPTIONS: Record<string, string> = {
  openid: 'Know who you are when you sign in',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Keep access while you are away, without asking you to sign in again',
};

export function describeScopes(scopes: string[], resources: Record<string, string[]> = {}): string[] {
  const lines = scopes.map((s) => DESCRIPTIONS[s] ?? `Use the “${s}” permission`);
  for (const [resource, list] of Object.entries(resources)) {
    for (const s of list) lines.push(`Use the “${s}” permission at ${resource}`);
  }
  // "Know who you are" alone is implied by signing in; show it only if it is all there is.
  return lines.length > 1 ? lines.filter((l) => l !== DESCRIPTIONS.openid) : lines;
}
