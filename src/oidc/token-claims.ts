// oidc-provider's `extraTokenClaims`: what an API asked to be told about the
// person (`resource create --claims "email name roles"`) goes into its access
// tokens — the JWT itself, or the introspection answer of an opaque one.
// Only for tokens issued to a person: machine tokens (client credentials,
// jwt-bearer) have nobody to describe. Read when each token is issued, so a
// refreshed token carries the current roles.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceServerService } from '../services/resource-servers.ts';
import type { UserService } from '../services/users.ts';

type TokenLike = { accountId?: string; aud?: unknown; kind?: string };

export function buildExtraTokenClaims(resources: ResourceServerService, users: UserService) {
  return async (_ctx: KoaContextWithOIDC | undefined, token: TokenLike): Promise<Record<string, unknown> | undefined> => {
    if (!token.accountId || typeof token.aud !== 'string') return undefined;
    const rs = await resources.find(token.aud);
    if (!rs?.claims.length) return undefined;
    const user = await users.findActive(token.accountId);
    if (!user) return undefined;
    const out: Record<string, unknown> = {};
    for (const claim of rs.claims) {
      if (claim === 'email') out.email = user.email;
      else if (claim === 'email_verified') out.email_verified = user.emailVerified;
      else if (claim === 'name' && user.name) out.name = user.name;
      else if (claim === 'roles') out.roles = await users.roles(user.id);
    }
    return out;
  };
}
