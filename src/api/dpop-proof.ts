// DPoP proofs (RFC 9449 §4.3) for our own JSON APIs. oidc-provider checks
// them at its endpoints (token, userinfo, introspection); a token it bound to
// a key (`cnf.jkt`) is presented to /api/v1 and /admin/api/v1 too, and there
// the proof is ours to check: without it a copied token would work as a
// plain bearer token, which is the one thing binding exists to prevent.
//
// What a proof must be: a `dpop+jwt` signed with an asymmetric algorithm by
// the public key in its own `jwk` header, that key's RFC 7638 thumbprint
// equal to the token's `cnf.jkt`, for this request's method (`htm`) and URL
// (`htu`, built from the configured issuer, never from the Host header), for
// this very token (`ath`), recent (`iat`), and used once (`jti`: the caller
// marks it, atomically across nodes).
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, errors as joseErrors, type JWK } from 'jose';

/** The proof algorithms oidc-provider accepts at its own endpoints (its `dPoPSigningAlgValues` default). */
export const DPOP_ALGS = ['ES256', 'EdDSA', 'Ed25519'] as const;

/** How old a proof may be, seconds (plus the configured clock skew): one request's worth, not a session's. */
export const PROOF_MAX_AGE = 60;

export class DpopProofError extends Error {
  override name = 'DpopProofError';
}

export interface ExpectedProof {
  method: string;
  /** The request URL without query or fragment, on the issuer's origin. */
  url: string;
  accessToken: string;
  /** The token's cnf.jkt. */
  jkt: string;
  /** Seconds since the epoch. */
  now: number;
  clockSkew: number;
}

export interface VerifiedProof {
  jti: string;
  iat: number;
  /** When the jti may be forgotten: after that the proof is too old anyway. */
  usableUntil: Date;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

function normalizedUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    url.search = '';
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}

export async function verifyDpopProof(proof: string, expected: ExpectedProof): Promise<VerifiedProof> {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof)) {
    throw new DpopProofError('the DPoP header must hold exactly one proof (a signed JWT)');
  }
  let payload: Record<string, unknown>;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGS] });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch (err) {
    if (err instanceof joseErrors.JOSEAlgNotAllowed) throw new DpopProofError(`the DPoP proof must be signed with ${DPOP_ALGS.join(', ')}`);
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'typ') throw new DpopProofError('the DPoP proof must have typ dpop+jwt');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new DpopProofError('the DPoP proof signature does not verify against its jwk');
    throw new DpopProofError('the DPoP proof is not a JWT signed by the public key in its jwk header');
  }
  if ((await calculateJwkThumbprint(jwk)) !== expected.jkt) {
    throw new DpopProofError('the DPoP proof is signed with another key than the one the access token is bound to');
  }
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) throw new DpopProofError('the DPoP proof needs a jti (a unique string)');
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw new DpopProofError('the DPoP proof needs an iat (seconds)');
  if (payload.iat > expected.now + expected.clockSkew) throw new DpopProofError('the DPoP proof iat is in the future');
  if (payload.iat < expected.now - PROOF_MAX_AGE - expected.clockSkew) {
    throw new DpopProofError(`the DPoP proof is older than ${PROOF_MAX_AGE} s: make a fresh one for every request`);
  }
  if (payload.htm !== expected.method) throw new DpopProofError(`the DPoP proof is for ${String(payload.htm)}, not ${expected.method}`);
  if (typeof payload.htu !== 'string' || normalizedUrl(payload.htu) !== normalizedUrl(expected.url)) {
    throw new DpopProofError(`the DPoP proof htu must be ${expected.url}`);
  }
  if (payload.ath !== sha256(expected.accessToken)) throw new DpopProofError('the DPoP proof ath does not match this access token');
  return { jti: payload.jti, iat: payload.iat, usableUntil: new Date((payload.iat + PROOF_MAX_AGE + expected.clockSkew + 1) * 1000) };
}
