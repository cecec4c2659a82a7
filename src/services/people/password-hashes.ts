// Password hashes as products keep them, read without verifying anything:
// which scheme and cost a stored hash uses, and the job a password thread
// runs to check a password against it (src/services/people/password-workers.ts).
// The one parser of these formats: `user import` validates with it, sign-in
// verifies with it.
//
//   bcrypt          $2a$ / $2b$ / $2y$ (PHP's $2y$ is the same algorithm as $2b$)
//   argon2id/i      PHC: $argon2id$v=19$m=65536,t=3,p=4$salt$hash (argon2-cffi, libsodium, PHP)
//   scrypt          PHC: $scrypt$ln=16,r=8,p=1$salt$hash (passlib)
//   PBKDF2          PHC: $pbkdf2-sha256$29000$salt$hash, $pbkdf2-sha512$… (passlib's adapted base64 too)
//   Django          pbkdf2_sha256$…, argon2$argon2id$…, bcrypt$$2b$…, bcrypt_sha256$$2b$…
//   Werkzeug/Flask  pbkdf2:sha256:600000$salt$hex, scrypt:32768:8:1$salt$hex
//
// Costs are bounded: a hash that would take seconds of CPU or gigabytes of
// memory at every sign-in is refused at import, not discovered at a login.
import { randomBytes } from 'node:crypto';

/** What a password thread runs (plain data: it is posted to the thread). */
export type VerifyJob =
  | { kind: 'bcrypt'; hash: string; prehash?: 'sha256-hex' }
  | { kind: 'argon2'; hash: string }
  | { kind: 'scrypt'; N: number; r: number; p: number; salt: string; expected: string }
  | { kind: 'pbkdf2'; digest: 'sha256' | 'sha512'; iterations: number; salt: string; expected: string };

export interface ParsedHash {
  /** Scheme and cost, the same for every hash of that cost: "argon2id m=65536,t=3,p=4". Never secret. */
  scheme: string;
  job: VerifyJob;
}

export const LIMITS = {
  bcryptCost: [4, 15],
  argon2MemoryKiB: 256 * 1024,
  argon2Time: 20,
  argon2Parallelism: 16,
  scryptMemoryBytes: 256 * 1024 * 1024,
  pbkdf2Iterations: [1000, 10_000_000],
} as const;

/** The stored value of an account without a password (imported without one): nothing matches it. */
export const NO_PASSWORD = '!';

export class HashFormatError extends Error {}

const fail = (message: string): never => {
  throw new HashFormatError(message);
};

/** A name for the format that reveals nothing of the hash: its scheme prefix, or its length. */
export function describeUnknown(stored: string): string {
  const prefix = /^(\$?[A-Za-z0-9_:-]{1,24}\$)/.exec(stored)?.[1];
  return prefix ? `"${prefix}…"` : `(a ${stored.length}-character string without a scheme prefix)`;
}

/** Standard or adapted (passlib: '.' for '+') base64, padded or not, to bytes. */
function b64(value: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/.]+={0,2}$/.test(value)) fail(`${what} is not base64`);
  return Buffer.from(value.replace(/\./g, '+'), 'base64');
}

function hex(value: string, what: string): Buffer {
  if (!/^(?:[0-9a-f]{2})+$/i.test(value)) fail(`${what} is not hexadecimal`);
  return Buffer.from(value, 'hex');
}

function checkLength(bytes: Buffer, what: string, min: number, max: number) {
  if (bytes.length < min || bytes.length > max) fail(`${what} is ${bytes.length} bytes; expected ${min} to ${max}`);
}

function bcryptJob(hash: string, prehash?: 'sha256-hex'): ParsedHash {
  const m = /^\$2([aby])\$(\d\d)\$([./A-Za-z0-9]{53})$/.exec(hash);
  if (!m) return fail('is not a well-formed bcrypt hash ($2b$NN$ and 53 characters)');
  const cost = Number(m[2]);
  const [lo, hi] = LIMITS.bcryptCost;
  if (cost < lo || cost > hi) fail(`bcrypt cost ${cost} is outside ${lo}–${hi}`);
  // $2y$ (PHP) and $2b$ are the same algorithm; the binding knows them as $2b$.
  const normalized = m[1] === 'y' ? `$2b$${m[2]}$${m[3]}` : hash;
  return { scheme: `${prehash ? 'bcrypt-sha256' : 'bcrypt'} cost=${cost}`, job: { kind: 'bcrypt', hash: normalized, ...(prehash ? { prehash } : {}) } };
}

function argon2Job(hash: string): ParsedHash {
  const m = /^\$(argon2id|argon2i)\$v=(16|19)\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash);
  if (!m) return fail('is not a well-formed argon2id/argon2i PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)');
  const [, variant, , mem, time, par, salt, digest] = m;
  const [memory, t, p] = [Number(mem), Number(time), Number(par)];
  if (memory > LIMITS.argon2MemoryKiB) fail(`argon2 memory m=${memory} KiB is over ${LIMITS.argon2MemoryKiB}`);
  if (t < 1 || t > LIMITS.argon2Time) fail(`argon2 time cost t=${t} is outside 1–${LIMITS.argon2Time}`);
  if (p < 1 || p > LIMITS.argon2Parallelism) fail(`argon2 parallelism p=${p} is outside 1–${LIMITS.argon2Parallelism}`);
  if (memory < 8 * p) fail(`argon2 memory m=${memory} KiB is under 8 × p`);
  checkLength(b64(salt!, 'argon2 salt'), 'argon2 salt', 8, 64);
  checkLength(b64(digest!, 'argon2 hash'), 'argon2 hash', 16, 64);
  return { scheme: `${variant} m=${memory},t=${t},p=${p}`, job: { kind: 'argon2', hash } };
}

function scryptJob(N: number, r: number, p: number, salt: Buffer, expected: Buffer): ParsedHash {
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) fail(`scrypt N=${N} is not a power of two`);
  if (r < 1 || r > 32 || p < 1 || p > 16) fail(`scrypt r=${r}, p=${p} are outside r 1–32, p 1–16`);
  if (128 * N * r > LIMITS.scryptMemoryBytes) fail(`scrypt N=${N}, r=${r} needs ${(128 * N * r) / 1048576} MiB, over ${LIMITS.scryptMemoryBytes / 1048576}`);
  checkLength(salt, 'scrypt salt', 8, 64);
  checkLength(expected, 'scrypt hash', 16, 64);
  return {
    scheme: `scrypt ln=${Math.log2(N)},r=${r},p=${p}`,
    job: { kind: 'scrypt', N, r, p, salt: salt.toString('base64'), expected: expected.toString('base64') },
  };
}

function pbkdf2Job(digest: string, iterations: number, salt: Buffer, expected: Buffer): ParsedHash {
  if (digest !== 'sha256' && digest !== 'sha512') return fail(`PBKDF2 with ${digest} is not supported (sha256 or sha512)`);
  const [lo, hi] = LIMITS.pbkdf2Iterations;
  if (!Number.isInteger(iterations) || iterations < lo || iterations > hi) fail(`PBKDF2 iterations ${iterations} are outside ${lo}–${hi}`);
  checkLength(salt, 'PBKDF2 salt', 4, 64);
  checkLength(expected, 'PBKDF2 hash', 16, 64);
  return {
    scheme: `pbkdf2-${digest} i=${iterations}`,
    job: { kind: 'pbkdf2', digest, iterations, salt: salt.toString('base64'), expected: expected.toString('base64') },
  };
}

const int = (s: string | undefined) => (s !== undefined && /^\d{1,9}$/.test(s) ? Number(s) : NaN);

/**
 * The scheme, cost and verification job of a stored hash; throws a
 * HashFormatError saying what is wrong (never quoting the hash).
 */
export function parsePasswordHash(stored: string): ParsedHash {
  if (stored.startsWith('$2')) return bcryptJob(stored);
  if (stored.startsWith('$argon2')) return argon2Job(stored);
  if (stored.startsWith('$scrypt$')) {
    const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([^$]+)\$([^$]+)$/.exec(stored);
    if (!m) return fail('is not a well-formed scrypt PHC string ($scrypt$ln=…,r=…,p=…$salt$hash)');
    return scryptJob(2 ** Number(m[1]), Number(m[2]), Number(m[3]), b64(m[4]!, 'scrypt salt'), b64(m[5]!, 'scrypt hash'));
  }
  if (stored.startsWith('$pbkdf2-')) {
    const m = /^\$pbkdf2-(sha\d+)\$(?:i=)?(\d{1,9})\$([^$]+)\$([^$]+)$/.exec(stored);
    if (!m) return fail('is not a well-formed PBKDF2 PHC string ($pbkdf2-sha256$iterations$salt$hash)');
    return pbkdf2Job(m[1]!, Number(m[2]), b64(m[3]!, 'PBKDF2 salt'), b64(m[4]!, 'PBKDF2 hash'));
  }
  // Django: <algorithm>$<rest>; the salt is text, used as its UTF-8 bytes.
  const django = /^(pbkdf2_sha256|pbkdf2_sha512|argon2|bcrypt|bcrypt_sha256)\$(.*)$/s.exec(stored);
  if (django) {
    const [, algorithm, rest] = django;
    if (algorithm === 'argon2') return argon2Job(`$${rest!.replace(/^\$/, '')}`);
    if (algorithm === 'bcrypt') return bcryptJob(rest!.replace(/^\$(?=\$2)/, ''));
    if (algorithm === 'bcrypt_sha256') return bcryptJob(rest!.replace(/^\$(?=\$2)/, ''), 'sha256-hex');
    const parts = rest!.split('$');
    if (parts.length !== 3) return fail(`is not a well-formed Django ${algorithm} hash (${algorithm}$iterations$salt$hash)`);
    return pbkdf2Job(algorithm!.slice(7), int(parts[0]), Buffer.from(parts[1]!, 'utf8'), b64(parts[2]!, 'Django PBKDF2 hash'));
  }
  // Werkzeug (Flask): method$salt$hex, the salt text used as its UTF-8 bytes.
  const werkzeug = /^(pbkdf2:[a-z0-9]+:\d+|scrypt:\d+:\d+:\d+)\$([^$]+)\$([0-9a-f]+)$/.exec(stored);
  if (werkzeug) {
    const [, method, salt, digest] = werkzeug;
    const parts = method!.split(':');
    const saltBytes = Buffer.from(salt!, 'utf8');
    if (parts[0] === 'scrypt') return scryptJob(Number(parts[1]), Number(parts[2]), Number(parts[3]), saltBytes, hex(digest!, 'Werkzeug scrypt hash'));
    return pbkdf2Job(parts[1]!, Number(parts[2]), saltBytes, hex(digest!, 'Werkzeug PBKDF2 hash'));
  }
  return fail(`unknown format ${describeUnknown(stored)}`);
}

/** A hash of the same scheme and cost that no password matches: checking it costs what checking a real one does. */
export function syntheticJob(scheme: string): VerifyJob | undefined {
  const [name, params = ''] = scheme.split(' ');
  const p = Object.fromEntries(
    params
      .split(',')
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bcrypt = (cost: number) => `$2b$${String(cost).padStart(2, '0')}$${Array.from(randomBytes(53), (b) => alphabet[b & 63]).join('')}`;
  const raw = (n: number) => randomBytes(n).toString('base64');
  switch (name) {
    case 'bcrypt':
      return { kind: 'bcrypt', hash: bcrypt(p.cost!) };
    case 'bcrypt-sha256':
      return { kind: 'bcrypt', hash: bcrypt(p.cost!), prehash: 'sha256-hex' };
    case 'argon2id':
    case 'argon2i':
      return { kind: 'argon2', hash: `$${name}$v=19$m=${p.m},t=${p.t},p=${p.p}$${raw(16).replace(/=+$/, '')}$${raw(32).replace(/=+$/, '')}` };
    case 'scrypt':
      return { kind: 'scrypt', N: 2 ** p.ln!, r: p.r!, p: p.p!, salt: raw(16), expected: raw(32) };
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha512':
      return { kind: 'pbkdf2', digest: name.slice(7) as 'sha256' | 'sha512', iterations: p.i!, salt: raw(16), expected: raw(32) };
    default:
      return undefined;
  }
}

/** Latchkey's own kind of hash: bcrypt $2b$ at the configured cost. */
export const isNativeHash = (hash: string, cost: number) => hash.startsWith(`$2b$${String(cost).padStart(2, '0')}$`);
