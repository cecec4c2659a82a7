// Single-use identifiers (assertion and DPoP proof `jti`s). Marking one used is one insert
// keyed by its hash: the primary key makes it atomic, so of two requests with
// the same jti exactly one gets through, on one node or many. A row past its
// expiry (a sweep that has not run yet) is taken over in the same statement.
// Rows expire with the assertion and are swept with the other artifacts.
import { createHash } from 'node:crypto';
import type { ArtifactStore } from '../../db/artifact-store.ts';

const TYPE = 'AssertionJti';

/** Returns false when the identifier was already used. */
export function markUsedOnce(artifacts: ArtifactStore, issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
  const id = createHash('sha256').update(issuer).update('\0').update(jti).digest('base64url');
  return artifacts.insertOnce(TYPE, id, expiresAt);
}
