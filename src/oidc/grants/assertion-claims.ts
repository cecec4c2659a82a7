// Reading an assertion before it is verified: only to find out who claims to
// have signed it. Nothing read here is trusted until the signature checks.
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';

/** Larger assertions are refused before any parsing. */
export const MAX_ASSERTION_BYTES = 8 * 1024;

export type Unverified = { ok: true; header: ProtectedHeaderParameters; payload: JWTPayload; issuer: string } | { ok: false; description: string };

export function readUnverified(assertion: unknown): Unverified {
  if (typeof assertion !== 'string' || assertion.length === 0) return { ok: false, description: 'assertion is required' };
  if (assertion.length > MAX_ASSERTION_BYTES) {
    return { ok: false, description: `assertion is ${assertion.length} bytes; at most ${MAX_ASSERTION_BYTES} are accepted` };
  }
  const parts = assertion.split('.');
  if (parts.length === 5) return { ok: false, description: 'encrypted assertions (JWE) are not accepted; send a signed JWT (JWS)' };
  if (parts.length !== 3) return { ok: false, description: 'assertion is not a JWT: expected three base64url parts separated by dots' };
  let header: ProtectedHeaderParameters;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    return { ok: false, description: 'assertion header is not base64url-encoded JSON' };
  }
  try {
    payload = decodeJwt(assertion);
  } catch {
    return { ok: false, description: 'assertion payload is not a base64url-encoded JSON object' };
  }
  // `clientId` is the issuer claim of partners used to the self-signed style
  // (reference API C); it counts only when the standard `iss` is absent.
  const issuer = payload.iss ?? (payload as { clientId?: unknown }).clientId;
  if (typeof issuer !== 'string' || issuer.length === 0) {
    return { ok: false, description: "assertion has no iss: set iss (and sub) to the service account's client_id" };
  }
  return { ok: true, header, payload, issuer };
}
