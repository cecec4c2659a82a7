// REFRESH_REUSE_GRACE: a refresh token used again shortly after its first
// use, by the same client, gets exactly the successor the first use got —
// the same refresh token and a new access token for the same grant — instead
// of the whole grant being revoked as a stolen token's would be. That is what
// a mobile app whose request timed out after Latchkey answered, or two tabs
// refreshing at once, need: both end up holding the one live token.
//
// Two pieces make it exact and atomic across nodes:
// - the successor's value is derived from the presented token (an HMAC under
//   a server key), so every request rotating the same token names the same
//   successor, on any node, without reading what another request wrote;
// - the adapter (src/oidc/adapter.ts) lets a refresh token consumed less than
//   the grace ago be consumed again: one conditional UPDATE that keeps the
//   first consumption time, so the window is never extended by a retry.
// After the window a reuse reads as consumed and the library revokes the
// grant as before; another client's reuse is refused (client mismatch) before
// any of this.
import { createHmac } from 'node:crypto';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/** The successor of a refresh token: 256 bits, the length of the library's own token ids. */
export function successorOf(key: Buffer, presented: string): string {
  return createHmac('sha256', key).update(`refresh-token-successor\u0000${presented}`).digest('base64url');
}

/**
 * Makes rotated refresh tokens' ids the deterministic successor of the token
 * presented. `key` must not be the artifact-id key itself (ids are stored as
 * HMACs under that one): a derived key keeps the two unrelated.
 */
export function useDeterministicSuccessors(provider: Provider, key: Buffer): void {
  const prototype = provider.RefreshToken.prototype as unknown as { generateTokenId(): string; kind: string };
  const generate = prototype.generateTokenId;
  prototype.generateTokenId = function generateTokenId(this: { kind: string }) {
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    // Only a rotation: the token endpoint has consumed the presented refresh token and saves its successor.
    const presented = ctx?.oidc?.entities?.RotatedRefreshToken ? ctx.oidc.params?.refresh_token : undefined;
    if (this.kind === 'RefreshToken' && typeof presented === 'string') return successorOf(key, presented);
    return generate.call(this);
  };
}
