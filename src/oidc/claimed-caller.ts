// Who a protocol request says it comes from, read from the request alone
// (unverified): the client it names, or the API key it carries. Protocol
// knowledge, so it lives here; the rate limiter (src/middleware/koa-rate-limit.ts)
// gets it from the composition root (src/app.ts) to pick its counters, and
// the token audit (token-audit.ts) to name a refused caller.
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Context } from 'koa';
import { TOKEN_EXCHANGE } from './grants/token-exchange.ts';

/**
 * Whether a token request is a key exchange sent without client
 * authentication: the key is its only credential, and the built-in client
 * it runs as is nobody's name (for the rate limits, not a shared identity).
 */
export function isKeyExchangeWithoutClient(body: Record<string, unknown>, authorization: string): boolean {
  return body.grant_type === TOKEN_EXCHANGE && !authorization && !body.client_secret && !body.client_assertion;
}

const bodyOf = (ctx: Context) => (ctx.request.body ?? {}) as Record<string, unknown>;

/** The client a protocol request names: Basic credentials, client_id, or a (client) assertion's issuer. */
export function claimedClient(ctx: Context): string | undefined {
  const body = bodyOf(ctx);
  const auth = ctx.get('authorization');
  if (isKeyExchangeWithoutClient(body, auth)) return undefined;
  if (/^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    try {
      if (colon > 0) return decodeURIComponent(decoded.slice(0, colon));
    } catch {
      return undefined;
    }
  }
  if (typeof body.client_id === 'string' && body.client_id) return body.client_id;
  for (const jwt of [body.client_assertion, body.assertion]) {
    if (typeof jwt !== 'string') continue;
    try {
      const claims = decodeJwt(jwt) as { iss?: unknown; clientId?: unknown };
      const iss = claims.iss ?? claims.clientId;
      if (typeof iss === 'string' && iss) return iss;
    } catch {
      // unreadable: counted by address
    }
  }
  return undefined;
}

/** The API key of a key exchange without client authentication, as a digest (so no key is held in memory). */
function claimedKey(ctx: Context): string | undefined {
  const body = bodyOf(ctx);
  if (!isKeyExchangeWithoutClient(body, ctx.get('authorization')) || typeof body.subject_token !== 'string' || !body.subject_token) return undefined;
  return createHash('sha256').update(body.subject_token).digest('base64url').slice(0, 22);
}

/** At most one of the two: a named client, or else the digest of an API key sent as the only credential. */
export function claimedCaller(ctx: Context): { client?: string; key?: string } {
  const client = claimedClient(ctx);
  if (client) return { client };
  const key = claimedKey(ctx);
  return key ? { key } : {};
}
