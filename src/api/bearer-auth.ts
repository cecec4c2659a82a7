// Bearer authentication for the JSON API: a Latchkey JWT access token
// (RFC 9068) for the API's own resource indicator. Verified in process
// against the keys the running provider signs with (no HTTP round trip, no
// key loading per request), then:
// - a token bound to a key (DPoP, `cnf.jkt`) is accepted only as
//   `Authorization: DPoP <token>` with a valid proof for this request
//   (src/api/dpop-proof.ts), its jti used once across nodes; an unbound
//   token only as `Bearer`;
// - the subject is checked to be still enabled, and a person's token to
//   come from a client that still exists and is enabled: a disabled person,
//   service account or app (or a deleted one) is refused at once, even with
//   a token that has not expired.
import { createLocalJWKSet, jwtVerify, errors as joseErrors, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import type { Context } from 'koa';
import { DPOP_ALGS, DpopProofError, verifyDpopProof } from './dpop-proof.ts';
import type { AppError } from '../errors.ts';
import { problem } from './problem.ts';
import { requestSlot } from '../request-slot.ts';

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
  /** Whether the client a person's token was issued to still exists and is enabled. */
  clientActive(clientId: string): Promise<boolean>;
  /**
   * Marks a DPoP proof's jti used, in `namespace` (the key's thumbprint);
   * false when it was used before. Atomic on every node (src/services/secrets/replay-guard.ts).
   */
  proofUsedOnce(namespace: string, jti: string, forgetAfter: Date): Promise<boolean>;
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

type Scheme = 'Bearer' | 'DPoP';

/** A token whose signature, claims and (for a bound one) proof were checked; scope and liveness are not yet. */
interface Verified {
  caller: ApiCaller;
  scheme: Scheme;
}

export function createBearerAuth(opts: BearerAuthOptions): BearerAuth {
  const realm = opts.realm ?? DEFAULT_REALM;
  const skew = opts.clockSkew ?? 0;
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

  const params = (p: Record<string, string>) => [`realm=${quote(realm)}`, ...Object.entries(p).map(([k, v]) => `${k}=${quote(v)}`)].join(', ');
  const algs = DPOP_ALGS.join(' ');
  const challenge = (scheme: Scheme, p: Record<string, string>) => (scheme === 'DPoP' ? `DPoP ${params({ ...p, algs })}` : `Bearer ${params(p)}`);
  // RFC 6750 §3.1: a request without credentials gets a challenge without an
  // error code; RFC 9449 §7.1: one for each scheme accepted.
  const missing = (): AppError =>
    problem.unauthorized('send an access token for this API: Authorization: Bearer <token> (or DPoP <token> with a DPoP proof for a key-bound token)', {
      'WWW-Authenticate': `${challenge('Bearer', {})}, ${challenge('DPoP', {})}`,
    });
  const invalid = (detail: string, scheme: Scheme = 'Bearer'): AppError =>
    problem.unauthorized(detail, { 'WWW-Authenticate': challenge(scheme, { error: 'invalid_token', error_description: detail }) });
  const badProof = (detail: string): AppError =>
    problem.unauthorized(detail, { 'WWW-Authenticate': challenge('DPoP', { error: 'invalid_dpop_proof', error_description: detail }) });

  async function verify(token: string, scheme: Scheme): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, currentKeySet(), {
        issuer: opts.issuer,
        audience: opts.audience,
        typ: 'at+jwt',
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        clockTolerance: skew,
        requiredClaims: ['exp', 'sub', 'client_id'],
      });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw invalid('the access token has expired', scheme);
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        if (err.claim === 'aud') throw invalid(`the access token is not for this API: request it with resource=${opts.audience}`, scheme);
        if (err.claim === 'iss') throw invalid('the access token was not issued by this server', scheme);
        if (err.claim === 'typ') throw invalid('not an access token (RFC 9068 at+jwt expected)', scheme);
        throw invalid(`the access token's ${err.claim} claim is ${err.reason === 'missing' ? 'missing' : 'not acceptable'}`, scheme);
      }
      if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) {
        throw invalid("the access token signature does not verify against this server's keys", scheme);
      }
      // Malformed, wrong algorithm, not a JWT at all (an opaque token, say).
      throw invalid(`the access token is not a JWT access token for this API: request a token with resource=${opts.audience}`, scheme);
    }
  }

  /** RFC 9449 §7: a bound token needs the DPoP scheme and a proof of its key for this request and this token. */
  async function checkBinding(ctx: Context, token: string, scheme: Scheme, cnf: unknown): Promise<void> {
    if (cnf === undefined) {
      if (scheme === 'DPoP') throw invalid('the access token is not bound to a DPoP key: send it as Authorization: Bearer <token>', 'DPoP');
      return;
    }
    const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined;
    // Bound to something we cannot check (a certificate, say): refused rather than taken as bearer.
    if (typeof jkt !== 'string') throw invalid('the access token is bound to a key this API cannot check', scheme);
    if (scheme !== 'DPoP') {
      throw invalid('the access token is bound to a DPoP key: send it as Authorization: DPoP <token> with a DPoP proof', 'DPoP');
    }
    const proof = ctx.get('dpop');
    if (!proof) throw badProof('send a DPoP proof for this request in the DPoP header');
    let verified;
    try {
      verified = await verifyDpopProof(proof, {
        method: ctx.method,
        // The configured issuer's origin, never the Host header the caller chose.
        url: `${opts.issuer}${ctx.path}`,
        accessToken: token,
        jkt,
        now: Math.floor(Date.now() / 1000),
        clockSkew: skew,
      });
    } catch (err) {
      if (err instanceof DpopProofError) throw badProof(err.message);
      throw err;
    }
    if (!(await opts.proofUsedOnce(`dpop:${jkt}`, verified.jti, verified.usableUntil))) {
      throw badProof('this DPoP proof was already used: make a fresh one (new jti) for every request');
    }
  }

  async function verifyRequest(ctx: Context): Promise<Verified> {
    const header = ctx.get('authorization');
    if (!header) throw missing();
    const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (!match) throw invalid('the Authorization header must be "Bearer <token>" (or "DPoP <token>" for a key-bound token)');
    const scheme: Scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const token = match[2]!;
    const payload = await verify(token, scheme);
    await checkBinding(ctx, token, scheme, payload.cnf);
    const sub = String(payload.sub);
    const clientId = String(payload.client_id);
    return {
      scheme,
      caller: {
        subject: sub,
        // oidc-provider puts the client's id in `sub` when no person is behind the token.
        kind: sub === clientId ? 'client' : 'person',
        clientId,
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        tokenId: typeof payload.jti === 'string' ? payload.jti : undefined,
        expiresAt: new Date(payload.exp! * 1000),
        ...(typeof payload.auth_time === 'number' ? { authTime: new Date(payload.auth_time * 1000) } : {}),
      },
    };
  }

  // Once per request: a caller that asks again (another scope) reuses the
  // verification, so a proof's jti is not counted as replayed by its own request.
  const perRequest = requestSlot<Promise<Verified>>('bearer verification');

  return {
    async authenticate(ctx, scope) {
      let verifying = perRequest.get(ctx);
      if (!verifying) {
        verifying = verifyRequest(ctx);
        perRequest.set(ctx, verifying);
      }
      const { caller: verified, scheme } = await verifying;
      const caller = { ...verified, scopes: [...verified.scopes] };
      if (!caller.scopes.includes(scope)) {
        throw problem.forbidden(`the access token lacks the scope this operation requires: ${scope}`, {
          'WWW-Authenticate': challenge(scheme, { error: 'insufficient_scope', scope, error_description: `requires scope ${scope}` }),
        });
      }
      if (!(await opts.subjectActive(caller))) {
        throw invalid(
          caller.kind === 'person'
            ? 'the account this token was issued for is disabled or deleted'
            : 'the client this token was issued to is disabled or deleted',
          scheme,
        );
      }
      // A person's token lives on after its app is deleted or disabled; the app's permission to act for them does not.
      if (caller.kind === 'person' && !(await opts.clientActive(caller.clientId))) {
        throw invalid('the app this token was issued to is disabled or deleted', scheme);
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
export function insufficientUserAuthentication(maxAge: number, detail: string): AppError {
  const params = [
    `realm=${quote(DEFAULT_REALM)}`,
    `error=${quote('insufficient_user_authentication')}`,
    `error_description=${quote(detail)}`,
    `max_age=${quote(String(maxAge))}`,
  ];
  return problem.unauthorized(detail, { 'WWW-Authenticate': `Bearer ${params.join(', ')}` });
}
