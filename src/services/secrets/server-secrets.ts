// Secrets the server makes for itself (cookie-signing keys, the HMAC key for
// client secrets). Stored encrypted in the database so that every node
// sharing the database uses the same ones.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { SecretBox } from './secret-box.ts';

const purpose = (name: string) => `server-secret:${name}`;

/** Reads a secret, creating it on first use; safe when two nodes race. */
export async function getOrCreateSecret(db: Db, box: SecretBox, name: string, bytes = 32): Promise<string> {
  const existing = await db.serverSecret.findUnique({ where: { name } });
  if (existing) return box.open(existing.valueEnc, purpose(name));
  const value = randomBytes(bytes).toString('base64url');
  await db.serverSecret.createMany({ data: [{ name, valueEnc: box.seal(value, purpose(name)) }] }).catch((err: unknown) => {
    // Only a lost race is expected here; any other failure is the caller's to see, not a "not found" below.
    if (!isUniqueViolation(err)) throw err;
  });
  // Whoever won the race, everyone reads the stored row.
  const row = await db.serverSecret.findUniqueOrThrow({ where: { name } });
  return box.open(row.valueEnc, purpose(name));
}

/** Several secrets, in the order named: one query when they all exist (every start but the first). */
export async function getOrCreateSecrets<N extends string>(db: Db, box: SecretBox, names: readonly N[]): Promise<Record<N, string>> {
  const rows = new Map((await db.serverSecret.findMany({ where: { name: { in: [...names] } } })).map((r) => [r.name, r.valueEnc]));
  const out = {} as Record<N, string>;
  for (const name of names) {
    const sealed = rows.get(name);
    out[name] = sealed ? box.open(sealed, purpose(name)) : await getOrCreateSecret(db, box, name);
  }
  return out;
}
