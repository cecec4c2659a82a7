// oidc-provider's `extraTokenClaims`: what an API asked to be told about the
// person (`resource create --claims "email name roles"`) goes into its access
// tokens — the JWT itself, or the introspection answer of an opaque one —
// and so does `auth_time`, when the person signed in.
// Only for tokens issued to a person: machine tokens (client credentials,
// jwt-bearer) have nobody to describe. Read when each token is issued, so a
// refreshed token carries the current roles. The person's row is the one
// findAccount already read for the request, not read again.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceServerService } from '../services/apis/resource-servers.ts';
import type { UserService } from '../services/people/users.ts';
import type { RolesOf } from './person-roles.ts';

type TokenLike = { accountId?: string; aud?: unknown; kind?: string };

/**
 * When the person signed in, for a token issued to them: the sign-in the code
 * (or device code) was issued under, or the one a refresh token carries from
 * its first issue. RFC 9068 §2.2.1 lets access tokens carry `auth_time`, and
 * RFC 9470 step-up (`max_age`) needs it: Latchkey's own API requires a recent
 * one to create API keys. Tokens exchanged for an API key have none.
 */
function authTime(ctx: KoaContextWithOIDC | undefined): number | undefined {
  const e = ctx?.oidc?.entities;
  const t = (e?.AuthorizationCode ?? e?.RefreshToken ?? e?.DeviceCode)?.authTime;
  return typeof t === 'number' ? t : undefined;
}

export function buildExtraTokenClaims(resources: ResourceServerService, users: UserService, rolesOf: RolesOf) {
  /** The person as findAccount loaded them for this request (src/oidc/find-account.ts); read again only without one. */
  async function personOf(ctx: KoaContextWithOIDC | undefined, accountId: string): Promise<Record<string, unknown> | undefined> {
    const account = ctx?.oidc?.account;
    if (account?.accountId === accountId) return (await account.claims('userinfo', '', {}, [])) as Record<string, unknown>;
    const user = await users.findActive(accountId);
    return user && { email: user.email, email_verified: user.emailVerified, ...(user.name ? { name: user.name } : {}) };
  }

  return async (ctx: KoaContextWithOIDC | undefined, token: TokenLike): Promise<Record<string, unknown> | undefined> => {
    if (!token.accountId) return undefined;
    const signedIn = authTime(ctx);
    const out: Record<string, unknown> = signedIn === undefined ? {} : { auth_time: signedIn };
    const rs = typeof token.aud === 'string' ? await resources.find(token.aud) : undefined;
    const person = rs?.claims.length ? await personOf(ctx, token.accountId) : undefined;
    for (const claim of person ? rs!.claims : []) {
      if (claim === 'roles') out.roles = await rolesOf(ctx, token.accountId);
      else if (person![claim] !== undefined) out[claim] = person![claim];
    }
    return Object.keys(out).length ? out : undefined;
  };
}
