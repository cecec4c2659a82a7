// Bearer authentication for the JSON API: a Latchkey JWT access token
// (RFC 9068) for the API's own resource indicator. Verified in process
// against the keys the running provider signs with (no HTTP round trip, no
// key loading per request), then the subject is checked to be still
// enabled: a disabled person or service account is refused at once, even
// with a token that has not expired.
import { createLocalJWKSet, jwtVerify, errors as joseErrors, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import type { Context } from 'koa';
import { problem, type Problem } from './problem.ts';

export interface ApiCaller {
  /** The token's `sub`: a person's id, or the client id of a service account or client acting for itself. */
  subject: string;
  kind: 'person' | 'client';
  /** The client the token was issued to. */
  clientId: string;
  scopes: string[];
  /** The token's `jti`. */
  tokenId: string | undefined;
  expiresAt: Date;
  /** When the person last proved who they are (`auth_time`); absent on machine tokens. */
  authTime?: Date;
}

export interface BearerAuthOptions {
  issuer: string;
  /** The API's resource indicator: tokens must carry exactly this audience. */
  audience: string;
  /** The server's published signing keys (public members), as the running provider holds them. */
  keys(): { keys: JWK[] };
  /** Whether the token's subject still exists and is enabled. */
  subjectActive(caller: ApiCaller): Promise<boolean>;
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockSkew?: number;
  /** realm in WWW-Authenticate. */
  realm?: string;
}

export interface BearerAuth {
  /** The verified caller; throws a 401/403 problem carrying WWW-Authenticate. */
  authenticate(ctx: Context, scope: string): Promise<ApiCaller>;
}

const quote = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;
const DEFAULT_REALM = 'latchkey';

export function createBearerAuth(opts: BearerAuthOptions): BearerAuth {
  const realm = opts.realm ?? DEFAULT_REALM;
  // One local key set per key-set object: rebuilt only when the provider's keys change.
  let seen: { keys: JWK[] } | undefined;
  let keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  const currentKeySet = () => {
    const jwks = opts.keys();
    if (jwks !== seen) {
      seen = jwks;
      keySet = createLocalJWKSet(jwks as JSONWebKeySet);
    }
    return keySet!;
  };

  const challenge = (params: Record<string, string>) =>
    `Bearer ${[`realm=${quote(realm)}`, ...Object.entries(params).map(([k, v]) => `${k}=${quote(v)}`)].join(', ')}`;
  // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
  const missing = (): Problem => problem.unauthorized('send an access token for this API: Authorization: Bearer <token>', { 'WWW-Authenticate': challenge({}) });
  const invalid = (detail: string): Problem =>
    problem.unauthorized(detail, { 'WWW-Authenticate': challenge({ error: 'invalid_token', error_description: detail }) });

  async function verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, currentKeySet(), {
        issuer: opts.issuer,
        audience: opts.audience,
        typ: 'at+jwt',
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        clockTolerance: opts.clockSkew ?? 0,
        requiredClaims: ['exp', 'sub', 'client_id'],
      });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw invalid('the access token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        if (err.claim === 'aud') throw invalid(`the access token is not for this API: request it with resource=${opts.audience}`);
        if (err.claim === 'iss') throw invalid('the access token was not issued by this server');
        if (err.claim === 'typ') throw invalid('not an access token (RFC 9068 at+jwt expected)');
        throw invalid(`the access token's ${err.claim} claim is ${err.reason === 'missing' ? 'missing' : 'not acceptable'}`);
      }
      if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) {
        throw invalid('the access token signature does not verify against this server\'s keys');
      }
      // Malformed, wrong algorithm, not a JWT at all (an opaque token, say).
      throw invalid(`the access token is not a JWT access token for this API: request a token with resource=${opts.audience}`);
    }
  }

  return {
    async authenticate(ctx, scope) {
      const header = ctx.get('authorization');
      if (!header) throw missing();
      const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
      if (!match) throw invalid('the Authorization header must be "Bearer <token>"');
      const payload = await verify(match[1]!);
      const sub = String(payload.sub);
      const clientId = String(payload.client_id);
      const caller: ApiCaller = {
        subject: sub,
        // oidc-provider puts the client's id in `sub` when no person is behind the token.
        kind: sub === clientId ? 'client' : 'person',
        clientId,
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        tokenId: typeof payload.jti === 'string' ? payload.jti : undefined,
        expiresAt: new Date(payload.exp! * 1000),
        ...(typeof payload.auth_time === 'number' ? { authTime: new Date(payload.auth_time * 1000) } : {}),
      };
      if (!caller.scopes.includes(scope)) {
        throw problem.forbidden(`the access token lacks the scope this operation requires: ${scope}`, {
          'WWW-Authenticate': challenge({ error: 'insufficient_scope', scope, error_description: `requires scope ${scope}` }),
        });
      }
      if (!(await opts.subjectActive(caller))) {
        throw invalid(caller.kind === 'person' ? 'the account this token was issued for is disabled or deleted' : 'the client this token was issued to is disabled or deleted');
      }
      return caller;
    },
  };
}

/**
 * RFC 9470 step-up: the token is valid, but the person's sign-in behind it
 * is older than the operation allows. The app sends the person to sign in
 * again (`max_age`) and retries with the new token.
 */
export function insufficientUserAuthentication(maxAge: number, detail: string): Problem {
  return problem.unauthorized(detail, {
    'WWW-Authenticate': `Bearer ${[`realm=${quote(DEFAULT_REALM)}`, `error=${quote('insufficient_user_authentication')}`, `error_description=${quote(detail)}`, `max_age=${quote(String(maxAge))}`].join(', ')}`,
  });
}
