// Which scopes of an API a client may be given. One rule for every way a
// token for an API is issued (client credentials, jwt-bearer, a person's
// authorization): a client, service account or key has an explicit list of
// API scopes it was granted (its ceiling); at a resource it may get the
// scopes that resource defines AND the ceiling contains, and nothing else.
// A client granted none of a resource's scopes gets no token for it at all:
// an empty-scope token is still a token some APIs would accept on audience
// alone.
import type { ResourceServerRecord } from './resource-servers.ts';

export const splitScope = (scope: string | undefined | null): string[] => (scope ? scope.split(/\s+/).filter(Boolean) : []);

/** The scopes `ceiling` may have at `resource`, in the resource's order. */
export function allowedAt(resource: Pick<ResourceServerRecord, 'scope'>, ceiling: readonly string[]): string[] {
  const granted = new Set(ceiling);
  return splitScope(resource.scope).filter((s) => granted.has(s));
}

export type ScopeDecision = { ok: true; scopes: string[] } | { ok: false; error: 'invalid_target' | 'invalid_scope'; description: string };

export interface ScopeRequest {
  /** How the caller is named in refusals, e.g. "client 'abc'". */
  who: string;
  resource: Pick<ResourceServerRecord, 'identifier' | 'scope'>;
  ceiling: readonly string[];
  requested: readonly string[];
  /** Used when nothing is requested; default: everything allowed at the resource. */
  defaults?: readonly string[];
  /** Refuse a request naming any scope that is not allowed (else narrow to what is). */
  strict?: boolean;
}

export function decideScopes({ who, resource, ceiling, requested, defaults, strict }: ScopeRequest): ScopeDecision {
  const allowed = allowedAt(resource, ceiling);
  const list = (s: readonly string[]) => (s.length ? s.join(' ') : '(none)');
  if (allowed.length === 0) {
    return {
      ok: false,
      error: 'invalid_target',
      description: `${who} is granted none of the scopes of ${resource.identifier} (it defines: ${list(splitScope(resource.scope))}; ${who} is granted: ${list(ceiling)})`,
    };
  }
  const allowedSet = new Set(allowed);
  if (requested.length) {
    const refused = requested.filter((s) => !allowedSet.has(s));
    if (strict && refused.length) {
      return {
        ok: false,
        error: 'invalid_scope',
        description: `scope '${refused[0]}' is not allowed for ${who} at ${resource.identifier}; allowed: ${allowed.join(' ')}`,
      };
    }
    const scopes = allowed.filter((s) => requested.includes(s));
    if (scopes.length === 0) {
      return {
        ok: false,
        error: 'invalid_scope',
        description: `none of the requested scopes (${requested.join(' ')}) is allowed for ${who} at ${resource.identifier}; allowed: ${allowed.join(' ')}`,
      };
    }
    return { ok: true, scopes };
  }
  const scopes = defaults ? allowed.filter((s) => defaults.includes(s)) : allowed;
  if (scopes.length === 0) {
    return {
      ok: false,
      error: 'invalid_scope',
      description: `no scope was requested and the default scope of ${who} (${list(defaults ?? [])}) has none of ${resource.identifier}; request one of: ${allowed.join(' ')}`,
    };
  }
  return { ok: true, scopes };
}
