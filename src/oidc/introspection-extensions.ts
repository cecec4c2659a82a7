// What RFC 7662 introspection answers beyond oidc-provider's own tokens,
// around the provider's introspection endpoint:
// - API keys (`lk_live_…`, src/services/api-keys/api-keys.ts): token_type "api_key";
// - partners' self-signed HS256 tokens of service accounts that opted in
//   (`service-account create … --self-signed-tokens`);
// - `sub` in every active answer: the provider leaves it out of client
//   credentials and jwt-bearer tokens, whose subject is the client itself.
//
// A key or partner token carries no audience of its own: it is active only at
// a resource server whose APIs its scopes meet, and the answer says which
// (`aud`) and what it carries there (`scope`), so that a stock resource
// server checking `active` alone lets in nothing meant for another API.
//
// The provider still authenticates the caller: a key or partner token is
// swapped for a placeholder it never looks up (its answer is `{"active":
// false}` after client authentication), then, when the caller was
// authenticated, the real answer replaces it. One of our keys presented by a
// client that HTTP Basic alone authenticates is answered before the provider
// (src/oidc/basic-client-auth.ts): the same answer at about half the CPU; so
// is one of the provider's own opaque tokens, from its own parts
// (src/oidc/opaque-token-introspection.ts).
// To a caller that may not see a key, or for a key that is expired, revoked,
// unknown or mistyped, the answer is exactly `{"active": false}` — and so it
// is for any JWT that is not one of this server's own access tokens (which
// the provider refuses as `unsupported_token_type`: they are verified
// offline) nor a partner's: a malformed or forged token is inactive, not a
// client error.
import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { splitScope } from '../services/apis/api-access.ts';
import type { ApiKeyService, KeyAtResource } from '../services/api-keys/api-keys.ts';
import type { KeyHolder } from '../db/api-key-store.ts';
import { looksLikeApiKey, SECRET_LENGTH, CHECKSUM_LENGTH, type KeyFormat } from '../services/api-keys/api-key-format.ts';
import type { ResourceServerService } from '../services/apis/resource-servers.ts';
import type { ServiceAccountService } from '../services/machines/service-accounts.ts';
import { audiencesOf, servedResources, type ClientLike } from './introspection-policy.ts';
import { API_KEY_CLIENT_ID } from './grants/token-exchange.ts';
import { basicClientOf } from './basic-client-auth.ts';
import { opaqueTokenAnswer } from './opaque-token-introspection.ts';

/** oidc-provider's own opaque tokens: 43 base64url characters. */
const PROVIDER_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The form parameter a resource server uses to pass its caller's address (for keys with allowed ranges). */
export const CALLER_IP_PARAM = 'caller_ip';

type Answer = Record<string, unknown>;

/** What the provider is given instead of a key or partner token: shaped like a key, so never looked up (see the adapter). */
export const placeholderFor = (format: KeyFormat) => `${format.prefix}_${format.env}_${'0'.repeat(SECRET_LENGTH + CHECKSUM_LENGTH)}`;

/** Whether the adapter may skip looking `id` up as a token: it has an API key's shape (oidc-provider's own ids are 43 characters, a key at least 45). */
export function keyShaped(format: KeyFormat): (id: string) => boolean {
  const pattern = new RegExp(`^${format.prefix}_[a-z0-9]+_[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}$`);
  return (id) => pattern.test(id);
}

export interface IntrospectionExtensionDeps {
  issuer: string;
  apiKeys: ApiKeyService;
  serviceAccounts: ServiceAccountService;
  resources: ResourceServerService;
  format: KeyFormat;
  clockSkew: number;
  /** The provider now (it is replaced when the configuration reloads). */
  provider(): Provider;
}

type JwtKind = { kind: 'own' } | { kind: 'partner'; accountId: string } | { kind: 'foreign' };

/**
 * What a JWT-shaped token is, unverified: one of this server's access tokens
 * (RFC 9068: `typ: at+jwt`, our issuer, an asymmetric algorithm), a partner's
 * HS256 token naming its service account in `clientId` (reference API C) or
 * `iss`, or anything else (forged, malformed, someone else's): inactive.
 * Undefined when it is no JWT at all (an opaque token the provider looks up).
 */
function jwtKind(token: string, issuer: string): JwtKind | undefined {
  // Opaque tokens and API keys have no dot: jose would throw (and build a stack) for each.
  if (!token.includes('.')) return undefined;
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return undefined;
  }
  let claims: JWTPayload & { clientId?: unknown };
  try {
    claims = decodeJwt(token);
  } catch {
    return { kind: 'foreign' };
  }
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : '';
  if (claims.iss === issuer && (typ === 'at+jwt' || typ === 'application/at+jwt') && typeof header.alg === 'string' && !/^(none|HS)/i.test(header.alg)) {
    return { kind: 'own' };
  }
  const id = claims.clientId ?? claims.iss;
  if (header.alg === 'HS256' && typeof id === 'string' && id) return { kind: 'partner', accountId: id };
  return { kind: 'foreign' };
}

/** The person claims a resource asked for (`resource create --claims`), of a person's key. */
function holderClaims(at: KeyAtResource[], holder: KeyHolder): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const claim of new Set(at.flatMap((a) => a.resource.claims))) {
    if (claim === 'roles') out.roles = holder.roles;
    else if (claim === 'email') out.email = holder.email;
    else if (claim === 'email_verified') out.email_verified = holder.emailVerified;
    else if (claim === 'name' && holder.name !== null) out.name = holder.name;
  }
  return out;
}

/** `aud` as RFC 7662 has it: one audience as a string, several as a list. */
const audience = (identifiers: string[]) => (identifiers.length === 1 ? identifiers[0] : identifiers);
const unique = (xs: string[]) => [...new Set(xs)];

export function introspectionExtensions(path: string, deps: IntrospectionExtensionDeps) {
  const { issuer, apiKeys, serviceAccounts, resources, format, clockSkew } = deps;
  const placeholder = placeholderFor(format);
  const encoder = new TextEncoder();
  // Where assertions are addressed: a token for these is no token for an API.
  const ownAudiences = new Set([issuer, `${issuer}/token`]);

  async function keyAnswer(client: ClientLike, token: string, address: string | undefined): Promise<Answer> {
    const served = servedResources(client);
    // Only resource servers learn about keys, and only keys whose scopes meet their APIs (a bound key: its own API's).
    if (!served.length) return { active: false };
    const check = await apiKeys.check(token, address, { resources: served });
    if (!check.active) return { active: false };
    const { key, at, holder } = check;
    return {
      active: true,
      token_type: 'api_key',
      scope: unique(at.flatMap((a) => a.scopes)).join(' '),
      sub: key.owner.id,
      client_id: key.owner.kind === 'service_account' ? key.owner.id : API_KEY_CLIENT_ID,
      iat: Math.floor(key.createdAt.getTime() / 1000),
      ...(key.expiresAt ? { exp: Math.floor(key.expiresAt.getTime() / 1000) } : {}),
      aud: audience(at.map((a) => a.resource.identifier)),
      jti: key.id,
      ...(holder ? holderClaims(at, holder) : {}),
    };
  }

  async function partnerAnswer(client: ClientLike, token: string, accountId: string): Promise<Answer> {
    const served = servedResources(client);
    if (!served.length) return { active: false };
    const account = await serviceAccounts.forAssertion(accountId);
    const maxLifetime = account?.metadata.self_signed_tokens?.max_lifetime;
    if (!account || account.disabled || maxLifetime === undefined || account.sharedSecret === undefined) return { active: false };
    let claims: Record<string, unknown> | undefined;
    // The shared secret, and during a rotation's overlap the one it replaced.
    for (const secret of serviceAccounts.verifyingSecrets(account)) {
      try {
        const { payload } = await compactVerify(token, encoder.encode(secret), { algorithms: ['HS256'] });
        claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
        break;
      } catch {
        // the next secret, if any
      }
    }
    if (!claims) return { active: false };
    const { exp, iat, iss, sub, clientId, aud } = claims;
    const now = Math.floor(Date.now() / 1000);
    if (typeof exp !== 'number' || typeof iat !== 'number') return { active: false };
    if (exp - iat > maxLifetime || exp <= iat) return { active: false };
    if (now > exp + clockSkew || iat > now + clockSkew) return { active: false };
    // Whatever names the account must name this one.
    for (const id of [clientId, iss, sub]) if (id !== undefined && id !== accountId) return { active: false };
    // An audience, when named, must be this caller's API; one addressed to this
    // server is an assertion (a jwt-bearer grant's), never a token for an API.
    const named = audiencesOf(aud);
    if (aud !== undefined && (!named.length || named.some((a) => ownAudiences.has(a)))) return { active: false };
    const carried = new Set(splitScope(account.metadata.default_scope));
    const at: { identifier: string; scopes: string[] }[] = [];
    for (const identifier of served) {
      if (named.length && !named.includes(identifier)) continue;
      const rs = await resources.find(identifier);
      const scopes = rs && apiKeys.isForKeys(identifier) ? splitScope(rs.scope).filter((s) => carried.has(s)) : [];
      if (scopes.length) at.push({ identifier, scopes });
    }
    if (!at.length) return { active: false };
    return {
      active: true,
      token_type: 'self_signed',
      scope: unique(at.flatMap((a) => a.scopes)).join(' '),
      sub: accountId,
      client_id: accountId,
      aud: audience(at.map((a) => a.identifier)),
      iat,
      exp,
    };
  }

  /** The provider's answer about one of its opaque tokens (or what it took for one), with what we add. */
  async function providerAnswerCompleted(client: ClientLike, answer: Answer, token: string, address: string | undefined): Promise<Answer> {
    if (answer.active === true && answer.sub === undefined && typeof answer.client_id === 'string') {
      // A token without a person: its subject is the client (as RFC 9068 puts it in the JWT form).
      return { ...answer, sub: answer.client_id };
    }
    // An imported key shaped like the provider's tokens (43 base64url characters, as Python's
    // secrets.token_urlsafe(32) makes): the provider's lookup found nothing, ours may.
    if (answer.active === false && (await apiKeys.mayBeImported(token))) return keyAnswer(client, token, address);
    return answer;
  }

  return async (ctx: Context, next: Next) => {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    if (ctx.method !== 'POST' || ctx.path !== path || !body) return next();
    const token = typeof body.token === 'string' ? body.token : undefined;
    const ownKey = token !== undefined && looksLikeApiKey(token, format);
    const jwt = token && !ownKey ? jwtKind(token, issuer) : undefined;
    // Neither one of our keys nor a JWT nor shaped like the provider's own opaque tokens: an
    // imported key of another format, or nothing (src/services/api-keys/api-keys.ts looks it up
    // once, and not at all while no key was imported). The provider never looks it up.
    const opaque = token !== undefined && PROVIDER_TOKEN.test(token);
    const foreignShaped = token !== undefined && !jwt && !ownKey && !opaque;
    const kind = token && (ownKey || foreignShaped) ? 'api_key' : jwt?.kind === 'own' ? undefined : jwt?.kind;
    const address = typeof body[CALLER_IP_PARAM] === 'string' ? (body[CALLER_IP_PARAM] as string) : undefined;
    // One of our keys, or one of the provider's opaque tokens, from a client authenticated by
    // HTTP Basic alone: answered here (src/oidc/basic-client-auth.ts), unless the provider must.
    if ((ownKey || opaque) && typeof body.token_type_hint !== 'object') {
      let answer: Answer | undefined;
      try {
        const provider = deps.provider();
        const client = await basicClientOf(ctx, body, provider);
        if (client && ownKey) answer = await keyAnswer(client, token!, address);
        else if (client) {
          const own = await opaqueTokenAnswer(provider, client, token!);
          if (own) answer = await providerAnswerCompleted(client, own, token!, address);
        }
      } catch {
        // A failed read (the database, a client's metadata document): the provider answers, with its
        // own error handling, events and failure accounting. Nothing was written: asking again is safe.
      }
      if (answer) {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = answer;
        return;
      }
    }
    if (kind) body.token = placeholder;

    await next();

    const client = (ctx as unknown as { oidc?: { client?: ClientLike } }).oidc?.client;
    const answer = ctx.body as Answer | undefined;
    if (ctx.status !== 200 || !client || !answer || typeof answer !== 'object') return;
    if (kind === 'api_key') {
      ctx.body = await keyAnswer(client, token!, address);
    } else if (jwt?.kind === 'partner') {
      ctx.body = await partnerAnswer(client, token!, jwt.accountId);
    } else if (kind === 'foreign') {
      ctx.body = { active: false };
    } else if (token && !jwt) {
      ctx.body = await providerAnswerCompleted(client, answer, token, address);
    }
  };
}
