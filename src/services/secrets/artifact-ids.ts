// Ids that are credentials (tokens, codes, session and interaction ids) are
// stored as an HMAC of themselves under a server key: a copy of the database
// names no usable one, and the lookup stays one primary-key read.
import { createHmac } from 'node:crypto';

export function hashArtifactId(key: Buffer, id: string): string {
  return createHmac('sha256', key).update(id).digest('base64url');
}
