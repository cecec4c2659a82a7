// Password hashing with bcrypt, never on the event loop: on the process's
// password threads (src/services/people/password-workers.ts).
import { randomBytes } from 'node:crypto';
import { createPasswordWorkers, type PasswordWorkers, type Verified } from './password-workers.ts';
import type { VerifyJob } from './password-hashes.ts';

export const MIN_PASSWORD_LENGTH = 8;
// bcrypt only reads the first 72 bytes; longer passwords would silently share a hash.
export const MAX_PASSWORD_BYTES = 72;

export function checkPasswordPolicy(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return `password must be at most ${MAX_PASSWORD_BYTES} bytes`;
  return undefined;
}

// One set of threads per process, however many runtimes it opens (the tests open many).
let workers: PasswordWorkers | undefined;
let threads: number | undefined;
let nice: number | undefined;

/** How many password threads the process starts (PASSWORD_HASH_THREADS), at what nice value (PASSWORD_HASH_NICE); before the first hash. */
export function setPasswordThreads(count: number | undefined, niceValue?: number): void {
  threads = count;
  nice = niceValue;
}

const pool = () => (workers ??= createPasswordWorkers(threads, nice));

export function hashPassword(password: string, cost: number): Promise<string> {
  return pool().hash(password, cost);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return pool().compare(password, hash);
}

/** A password against any supported hash (src/services/people/password-hashes.ts), on a password thread. */
export function verifyPasswordJob(password: string, job: VerifyJob): Promise<Verified> {
  return pool().verify(password, job);
}

/**
 * A well-formed bcrypt hash of the given cost that no password matches (its
 * checksum is random): comparing a password with it costs exactly what a
 * comparison with a real hash of that cost does, and making it costs nothing,
 * no thread and no hash at start-up.
 */
export function timingEqualiserHash(cost: number): string {
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const chars = Array.from(randomBytes(53), (b) => alphabet[b & 63]).join('');
  return `$2b$${String(cost).padStart(2, '0')}$${chars}`;
}

/**
 * Stops the password threads, for a process about to exit: hashes in flight
 * finish first (a thread torn down inside bcrypt, or while it loads bcrypt,
 * aborts the whole process with "terminate called after throwing an instance
 * of 'Napi::Error'"). A later hash starts new threads.
 */
export async function closePasswordWorkers(): Promise<void> {
  const closing = workers;
  workers = undefined;
  await closing?.close();
}
