// Token-signing keys. Generated on first start, stored with the private part
// encrypted, loaded once at start-up (never per request).
//
// States: `active` keys sign and are published. (Staged rotation adds
// `next` and `retiring`; see issue #5.)
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db } from '../db/database.ts';
import type { SecretBox } from './secret-box.ts';

export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number] | 'EdDSA';

const purpose = (kid: string) => `signing-key:${kid}`;

export async function generateSigningKey(alg: SigningAlg): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const meta = { kid, alg, use: 'sig' };
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), ...meta }, publicJwk: { ...publicJwk, ...meta } };
}

export async function insertSigningKey(db: Db, box: SecretBox, alg: SigningAlg, state: string): Promise<string> {
  const key = await generateSigningKey(alg);
  await db.signingKey.create({
    data: {
      kid: key.kid,
      alg,
      publicJwk: JSON.stringify(key.publicJwk),
      privateJwkEnc: box.seal(JSON.stringify(key.privateJwk), purpose(key.kid)),
      state,
    },
  });
  return key.kid;
}

/** Makes sure there is an active key for every default algorithm. Returns the kids it created. */
export async function ensureSigningKeys(db: Db, box: SecretBox): Promise<string[]> {
  const active = await db.signingKey.findMany({ where: { state: 'active' }, select: { alg: true } });
  const have = new Set(active.map((k) => k.alg));
  const created: string[] = [];
  for (const alg of SIGNING_ALGS) {
    if (!have.has(alg)) created.push(await insertSigningKey(db, box, alg, 'active'));
  }
  return created;
}

/**
 * The private JWKS handed to oidc-provider. It signs with the first key of
 * each algorithm, so RS256 (the default ID token algorithm) comes first and,
 * within an algorithm, the newest active key first.
 */
export async function loadSigningJwks(db: Db, box: SecretBox): Promise<{ keys: JWK[] }> {
  const rows = await db.signingKey.findMany({ where: { state: 'active' }, orderBy: { createdAt: 'desc' } });
  const rank = (alg: string) => {
    const i = (SIGNING_ALGS as readonly string[]).indexOf(alg);
    return i === -1 ? SIGNING_ALGS.length : i;
  };
  rows.sort((a, b) => rank(a.alg) - rank(b.alg));
  return { keys: rows.map((r) => JSON.parse(box.open(r.privateJwkEnc, purpose(r.kid))) as JWK) };
}
