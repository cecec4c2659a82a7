// Token-signing keys. Generated on first start, stored with the private part
// encrypted, loaded by each node at start-up and whenever the key set changes
// (never per request).
//
// Rotation is staged so that no relying party ever sees a token signed by a
// key it has not had the chance to cache:
//   next      published in the JWKS, not signing yet (until activatesAt)
//   active    signs new tokens; one per algorithm
//   retiring  no longer signs, still published until every token it signed
//             has expired (retiresAt)
//   retired   removed from the JWKS; its private key is erased
import type { JWK } from 'jose';
import type { Db } from '../../db/database.ts';
import type { SecretBox } from './secret-box.ts';
import { keyPairJwks, newKeyPair } from './key-pairs.ts';

export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export const ROTATABLE_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof ROTATABLE_ALGS)[number];
export type KeyState = 'next' | 'active' | 'retiring' | 'retired';
const PUBLISHED: KeyState[] = ['next', 'active', 'retiring'];

const purpose = (kid: string) => `signing-key:${kid}`;

/**
 * Where new key pairs come from. An object, so that the tests can wrap it:
 * their servers' first starts reuse one pair per algorithm and process
 * (test/helpers/server.ts says why). Nothing in src/ replaces it.
 */
export const keyPairSource = {
  generate: (alg: SigningAlg) => newKeyPair(alg),
};

export async function generateSigningKey(alg: SigningAlg): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  return keyPairJwks(await keyPairSource.generate(alg), alg);
}

export async function insertSigningKey(db: Db, box: SecretBox, alg: SigningAlg, state: KeyState, activatesAt: Date | null): Promise<string> {
  const key = await generateSigningKey(alg);
  await db.signingKey.create({
    data: {
      kid: key.kid,
      alg,
      publicJwk: JSON.stringify(key.publicJwk),
      privateJwkEnc: box.seal(JSON.stringify(key.privateJwk), purpose(key.kid)),
      state,
      activatesAt,
    },
  });
  return key.kid;
}

/** Stages a new key: published now, signing from `activatesAt`. */
export async function rotateSigningKey(db: Db, box: SecretBox, alg: SigningAlg, activatesAt: Date): Promise<string> {
  return insertSigningKey(db, box, alg, 'next', activatesAt);
}

/**
 * Moves keys along their stages. Every node runs this; each transition is a
 * conditional update, so when two nodes race only one performs it.
 * `retireAfterSeconds` must cover the longest lifetime of a signed token.
 */
export async function advanceKeyStages(db: Db, retireAfterSeconds: number, now: Date): Promise<string[]> {
  const changes: string[] = [];
  const due = await db.signingKey.findMany({ where: { state: 'next', activatesAt: { lte: now } }, orderBy: { activatesAt: 'asc' } });
  for (const key of due) {
    const promoted = await db.$transaction(async (tx) => {
      const { count } = await tx.signingKey.updateMany({ where: { kid: key.kid, state: 'next' }, data: { state: 'active' } });
      if (count !== 1) return false;
      await tx.signingKey.updateMany({
        where: { alg: key.alg, state: 'active', kid: { not: key.kid } },
        data: { state: 'retiring', retiresAt: new Date(now.getTime() + retireAfterSeconds * 1000) },
      });
      return true;
    });
    if (promoted) changes.push(`${key.kid} active`);
  }
  const { count } = await db.signingKey.updateMany({
    where: { state: 'retiring', retiresAt: { lte: now } },
    data: { state: 'retired', privateJwkEnc: '' },
  });
  if (count) changes.push(`${count} retired`);
  return changes;
}

export interface KeyStatus {
  kid: string;
  alg: string;
  state: string;
  createdAt: Date;
  activatesAt: Date | null;
  retiresAt: Date | null;
}

export async function keyStatus(db: Db): Promise<KeyStatus[]> {
  return db.signingKey.findMany({
    select: { kid: true, alg: true, state: true, createdAt: true, activatesAt: true, retiresAt: true },
    orderBy: [{ alg: 'asc' }, { createdAt: 'asc' }],
  });
}

/** Makes sure there is an active key for every default algorithm. Returns the kids it created. */
export async function ensureSigningKeys(db: Db, box: SecretBox, now: Date): Promise<string[]> {
  const active = await db.signingKey.findMany({ where: { state: 'active' }, select: { alg: true } });
  const have = new Set(active.map((k) => k.alg));
  const created: string[] = [];
  for (const alg of SIGNING_ALGS) {
    if (!have.has(alg)) created.push(await insertSigningKey(db, box, alg, 'active', now));
  }
  return created;
}

/**
 * The private JWKS handed to oidc-provider: every published key. Only active
 * keys may sign; the others carry `key_ops: ["verify"]`, which oidc-provider
 * honours when it picks a signing key, and which is what they are for.
 */
export async function loadSigningJwks(db: Db, box: SecretBox): Promise<{ keys: JWK[] }> {
  const rows = await db.signingKey.findMany({ where: { state: { in: PUBLISHED } }, orderBy: { createdAt: 'desc' } });
  const rank = (r: { alg: string; state: string }) => (r.state === 'active' ? 0 : 1) * 10 + Math.max(0, (ROTATABLE_ALGS as readonly string[]).indexOf(r.alg));
  rows.sort((a, b) => rank(a) - rank(b));
  return {
    keys: rows.map((r) => {
      const jwk = JSON.parse(box.open(r.privateJwkEnc, purpose(r.kid))) as JWK;
      return r.state === 'active' ? jwk : { ...jwk, key_ops: ['verify'] };
    }),
  };
}

const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

/** The public members of a key set: what verifying our own tokens needs, nothing more. */
export function publicJwksOf(jwks: { keys: JWK[] }): { keys: JWK[] } {
  return { keys: jwks.keys.map((k) => Object.fromEntries(Object.entries(k).filter(([name]) => !PRIVATE_MEMBERS.has(name))) as JWK) };
}
