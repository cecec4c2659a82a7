// Single-use identifiers (assertion `jti`s). Marking one used is an insert
// keyed by its hash: the primary key makes it atomic, so of two requests
// with the same jti exactly one gets through, on one node or many. Rows
// expire with the assertion and are swept with the other artifacts.
import { createHash } from 'node:crypto';
import type { Db } from '../db/database.ts';

const TYPE = 'AssertionJti';

/** Returns false when the identifier was already used. */
export async function markUsedOnce(db: Db, issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
  const id = createHash('sha256').update(issuer).update('\0').update(jti).digest('base64url');
  try {
    await db.oidcPayload.create({ data: { type: TYPE, id, payload: '{}', expiresAt } });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code !== 'P2002') throw err;
    // A row past its expiry is a sweep that has not run yet, not a replay.
    const { count } = await db.oidcPayload.updateMany({ where: { type: TYPE, id, expiresAt: { lt: new Date() } }, data: { expiresAt } });
    return count === 1;
  }
}
