// What a person may hold: the one rule for every way a person gets a scope of
// an API — a token through an app (the code flow), a key of their own, the
// exchange of that key, and introspection of it. An app's grant (api-access.ts)
// says what the app may ask for; this says what the person behind it may have.
//
// - A resource for machines only (`resource create --machines-only`, and the
//   admin API's always) gives no person any of its scopes.
// - A scope restricted to roles (`--scope-role cmdb.write=admin,ops`) is held
//   only while the person has one of those roles; scopes not restricted any
//   person may hold.
//
// Roles are read when the scope is given (a token issued, a key checked), so
// a role taken away takes the scope with it at the next token, introspection
// or exchange, as Keycloak's and Auth0's RBAC do.
import { splitScope } from './api-access.ts';
import type { ResourceServerRecord } from './resource-servers.ts';

export type PersonScopeRules = Pick<ResourceServerRecord, 'scope' | 'scopeRoles' | 'machinesOnly'>;

/** The scopes of `rs` a person with `roles` holds, in the resource's order. */
export function personScopesAt(rs: PersonScopeRules, roles: readonly string[]): string[] {
  if (rs.machinesOnly) return [];
  const have = new Set(roles);
  return splitScope(rs.scope).filter((scope) => {
    const needed = rs.scopeRoles[scope];
    return !needed?.length || needed.some((role) => have.has(role));
  });
}

/** Whether what a person holds at `rs` depends on their roles (else no roles need reading). */
export const dependsOnRoles = (rs: PersonScopeRules): boolean => !rs.machinesOnly && Object.values(rs.scopeRoles).some((roles) => roles.length > 0);

/**
 * Why a person with `roles` does not hold `scope` at `rs`, for a refusal
 * (`who` names them: "you", "user abc"); undefined when they hold it.
 */
export function whyNotHeld(
  rs: PersonScopeRules & Pick<ResourceServerRecord, 'identifier'>,
  scope: string,
  roles: readonly string[],
  who: string,
): string | undefined {
  if (!splitScope(rs.scope).includes(scope) || personScopesAt(rs, roles).includes(scope)) return undefined;
  if (rs.machinesOnly) return `scope ${scope} of ${rs.identifier} is for machines only: no person holds it`;
  return `scope ${scope} of ${rs.identifier} needs the role ${rs.scopeRoles[scope]!.join(' or ')}, which ${who} ${who === 'you' ? 'do' : 'does'} not have`;
}
