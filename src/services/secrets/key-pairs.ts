// Key pairs as JWKs: the token-signing keys (signing-keys.ts) and the keys
// the server makes for service accounts (machines/service-accounts.ts).
// jose is loaded on first use: most processes never make a key (an admin
// command that makes none spends about 50 ms of its start loading it).
import type { GenerateKeyPairResult, JWK } from 'jose';

export type KeyPairAlg = 'RS256' | 'ES256' | 'EdDSA';

export async function newKeyPair(alg: KeyPairAlg): Promise<GenerateKeyPairResult> {
  const { generateKeyPair } = await import('jose');
  return generateKeyPair(alg, { extractable: true, modulusLength: 2048, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
}

/** RFC 7638 thumbprint: the kid of every key the server makes, and of a pasted key without one. */
export async function jwkThumbprint(jwk: JWK): Promise<string> {
  const { calculateJwkThumbprint } = await import('jose');
  return calculateJwkThumbprint(jwk);
}

/** Both halves as JWKs, with the public half's thumbprint as kid, and `alg` and `use: sig` on both. */
export async function keyPairJwks(pair: GenerateKeyPairResult, alg: KeyPairAlg): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { exportJWK } = await import('jose');
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await jwkThumbprint(publicJwk);
  const meta = { kid, alg, use: 'sig' };
  return { kid, privateJwk: { ...(await exportJWK(pair.privateKey)), ...meta }, publicJwk: { ...publicJwk, ...meta } };
}
