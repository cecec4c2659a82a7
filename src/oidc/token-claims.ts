// oidc-provider's `extraTokenClaims`: what an API asked to be told about the
// person (`resource create --claims "email name roles"`) goes into its access
// tokens — the JWT itself, or the introspection answer of an opaque one.
// Only for tokens issued to a person: machine tokens (client credentials,
// jwt-bearer) have nobody to describe. Read when each token is issued, so a
// refreshed token carries the current roles. The person's row is the one
// findAccount already read for the request, not read again.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceServerService } from '../services/resource-servers.ts';
import type { UserService } from '../services/users.ts';
import type { RolesOf } from './person-roles.ts';

type TokenLike = { accountId?: string; aud?: unknown; kind?: string };

export function buildExtraTokenClaims(resources: ResourceServerService, users: UserService, rolesOf: RolesOf) {
  /** The person as findAccount loaded them for this request (src/oidc/find-account.ts); read again only without one. */
  async function personOf(ctx: KoaContextWithOIDC | undefined, accountId: string): Promise<Record<string, unknown> | undefined> {
    const account = ctx?.oidc?.account;
    if (account?.accountId === accountId) return (await account.claims('userinfo', '', {}, [])) as Record<string, unknown>;
    const user = await users.findActive(accountId);
    return user && { email: user.email, email_verified: user.emailVerified, ...(user.name ? { name: user.name } : {}) };
  }

  return async (ctx: KoaContextWithOIDC | undefined, token: TokenLike): Promise<Record<string, unknown> | undefined> => {
    if (!token.accountId || typeof token.aud !== 'string') return undefined;
    const rs = await resources.find(token.aud);
    if (!rs?.claims.length) return undefined;
    const person = await personOf(ctx, token.accountId);
    if (!person) return undefined;
    const out: Record<string, unknown> = {};
    for (const claim of rs.claims) {
      if (claim === 'roles') out.roles = await rolesOf(ctx, token.accountId);
      else if (person[claim] !== undefined) out[claim] = person[claim];
    }
    return out;
  };
}
