// Comparing a presented secret with the expected one without telling, by the
// time it takes, how much of it was right (or how long it is). Hashing both
// first makes any two strings comparable, whatever their length or alphabet.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function constantTimeEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Two digests of one kind (HMAC-SHA256 in base64url), whose length is public:
 * their bytes compared directly, without constantTimeEqual's two hashes
 * (about 3 µs, measured alone, of every request a client authenticates with
 * its secret).
 */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
