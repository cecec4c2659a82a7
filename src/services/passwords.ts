// Password hashing with bcrypt, never on the event loop: on the process's
// password threads (src/services/password-workers.ts).
import { createPasswordWorkers, type PasswordWorkers } from './password-workers.ts';

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

/** How many password threads the process starts (PASSWORD_HASH_THREADS); before the first hash. */
export function setPasswordThreads(count: number | undefined): void {
  threads = count;
}

const pool = () => (workers ??= createPasswordWorkers(threads));

export function hashPassword(password: string, cost: number): Promise<string> {
  return pool().hash(password, cost);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return pool().compare(password, hash);
}

/** Hashes waiting for a password thread. */
export const passwordsQueued = () => workers?.queued ?? 0;
