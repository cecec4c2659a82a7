// What RFC 7662 introspection answers beyond oidc-provider's own tokens,
// around the provider's introspection endpoint:
// - API keys (`lk_live_…`, src/services/api-keys.ts): token_type "api_key";
// - partners' self-signed HS256 tokens of service accounts that opted in
//   (`service-account create … --self-signed-tokens`);
// - `sub` in every active answer: the provider leaves it out of client
//   credentials and jwt-bearer tokens, whose subject is the client itself.
//
// The provider still authenticates the caller: a key or partner token is
// swapped for a placeholder it never looks up (its answer is `{"active":
// false}` after client authentication), then, when the caller was
// authenticated, the real answer replaces it. To a caller that may not see
// a key, or for a key that is expired, revoked, unknown or mistyped, the
// answer is exactly `{"active": false}`.
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import type { Context, Next } from 'koa';
import type { ApiKeyService } from '../services/api-keys.ts';
import { looksLikeApiKey, SECRET_LENGTH, CHECKSUM_LENGTH, type KeyFormat } from '../services/api-key-format.ts';
import type { ServiceAccountService } from '../services/service-accounts.ts';
import { servedResources } from './introspection-policy.ts';
import { API_KEY_CLIENT_ID } from './grants/token-exchange.ts';

/** The form parameter a resource server uses to pass its caller's address (for keys with allowed ranges). */
export const CALLER_IP_PARAM = 'caller_ip';

type ClientLike = { clientId: string; metadata(): Record<string, unknown> };
type Answer = Record<string, unknown>;

/** What the provider is given instead of a key or partner token: shaped like a key, so never looked up (see the adapter). */
export const placeholderFor = (format: KeyFormat) => `${format.prefix}_${format.env}_${'0'.repeat(SECRET_LENGTH + CHECKSUM_LENGTH)}`;

/** Whether the adapter may skip looking `id` up as a token: it has an API key's shape (oidc-provider's own ids are 43 characters, a key at least 45). */
export function keyShaped(format: KeyFormat): (id: string) => boolean {
  const pattern = new RegExp(`^${format.prefix}_[a-z0-9]+_[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}$`);
  return (id) => pattern.test(id);
}

export interface IntrospectionExtensionDeps {
  apiKeys: ApiKeyService;
  serviceAccounts: ServiceAccountService;
  format: KeyFormat;
  clockSkew: number;
}

/** A partner token names its service account in `clientId` (reference API C) or `iss`; unverified here. */
function partnerOf(token: string): string | undefined {
  try {
    if (decodeProtectedHeader(token).alg !== 'HS256') return undefined;
    const claims = decodeJwt(token) as { clientId?: unknown; iss?: unknown };
    const id = claims.clientId ?? claims.iss;
    return typeof id === 'string' && id ? id : undefined;
  } catch {
    return undefined;
  }
}

export function introspectionExtensions(path: string, deps: IntrospectionExtensionDeps) {
  const { apiKeys, serviceAccounts, format, clockSkew } = deps;
  const placeholder = placeholderFor(format);
  const encoder = new TextEncoder();

  async function keyAnswer(client: ClientLike, token: string, address: string | undefined): Promise<Answer> {
    const served = servedResources(client);
    // Only resource servers learn about keys; a bound key only its own resource's.
    if (!served.length) return { active: false };
    const check = await apiKeys.check(token, address, (key) => !key.resource || served.includes(key.resource));
    if (!check.active) return { active: false };
    const { key } = check;
    return {
      active: true,
      token_type: 'api_key',
      scope: key.scopes.join(' '),
      sub: key.owner.id,
      client_id: key.owner.kind === 'service_account' ? key.owner.id : API_KEY_CLIENT_ID,
      iat: Math.floor(key.createdAt.getTime() / 1000),
      ...(key.expiresAt ? { exp: Math.floor(key.expiresAt.getTime() / 1000) } : {}),
      ...(key.resource ? { aud: key.resource } : {}),
      jti: key.id,
    };
  }

  async function partnerAnswer(client: ClientLike, token: string, accountId: string): Promise<Answer> {
    if (!servedResources(client).length) return { active: false };
    const account = await serviceAccounts.forAssertion(accountId);
    const maxLifetime = account?.metadata.self_signed_tokens?.max_lifetime;
    if (!account || account.disabled || maxLifetime === undefined || account.sharedSecret === undefined) return { active: false };
    let claims: Record<string, unknown>;
    try {
      const { payload } = await compactVerify(token, encoder.encode(account.sharedSecret), { algorithms: ['HS256'] });
      claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    } catch {
      return { active: false };
    }
    const { exp, iat, iss, sub, clientId } = claims;
    const now = Math.floor(Date.now() / 1000);
    if (typeof exp !== 'number' || typeof iat !== 'number') return { active: false };
    if (exp - iat > maxLifetime || exp <= iat) return { active: false };
    if (now > exp + clockSkew || iat > now + clockSkew) return { active: false };
    // Whatever names the account must name this one.
    for (const id of [clientId, iss, sub]) if (id !== undefined && id !== accountId) return { active: false };
    return {
      active: true,
      token_type: 'self_signed',
      scope: account.metadata.default_scope,
      sub: accountId,
      client_id: accountId,
      iat,
      exp,
    };
  }

  return async (ctx: Context, next: Next) => {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    if (ctx.method !== 'POST' || ctx.path !== path || !body) return next();
    const token = typeof body.token === 'string' ? body.token : undefined;
    const partner = token && !looksLikeApiKey(token, format) ? partnerOf(token) : undefined;
    const kind = token && looksLikeApiKey(token, format) ? 'api_key' : partner ? 'partner' : undefined;
    if (kind) body.token = placeholder;

    await next();

    const client = (ctx as unknown as { oidc?: { client?: ClientLike } }).oidc?.client;
    const answer = ctx.body as Answer | undefined;
    if (ctx.status !== 200 || !client || !answer || typeof answer !== 'object') return;
    if (kind === 'api_key') {
      const address = typeof body[CALLER_IP_PARAM] === 'string' ? (body[CALLER_IP_PARAM] as string) : undefined;
      ctx.body = await keyAnswer(client, token!, address);
    } else if (kind === 'partner') {
      ctx.body = await partnerAnswer(client, token!, partner!);
    } else if (answer.active === true && answer.sub === undefined && typeof answer.client_id === 'string') {
      // A token without a person: its subject is the client (as RFC 9068 puts it in the JWT form).
      answer.sub = answer.client_id;
    }
  };
}
