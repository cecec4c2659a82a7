// Comparing a presented secret with the expected one without telling, by the
// time it takes, how much of it was right (or how long it is). Hashing both
// first makes any two strings comparable, whatever their length or alphabet.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function constantTimeEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
