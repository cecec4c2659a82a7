// The shape of an API key: `<prefix>_<env>_<secret><checksum>`.
//   secret    34 base62 characters from the CSPRNG (≈202 bits; the 6 shown
//             for display leave ≈166 unknown)
//   checksum  CRC32 of everything before it, 6 base62 characters
// The checksum lets a mistyped or truncated key be refused without a
// database lookup, and lets secret scanners tell a real key from noise;
// it is not a secret and proves nothing about the key's validity.
import { randomBytes } from 'node:crypto';
import { DATE_WORDS, DURATION_WORDS, readExpiry } from '../../config/durations.ts';
import { invalidInput } from '../../errors.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SECRET_LENGTH = 34;
export const CHECKSUM_LENGTH = 6;
/** Secret characters kept for display (`lk_live_AbC123…`). */
export const DISPLAY_LENGTH = 6;

/** Uniform base62 characters: bytes ≥ 248 are dropped so that no character is likelier than another. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

/** node:zlib, taken at the first checksum: nothing else a start runs needs it, and it holds 1 MB (bench/README.md, "Stop 42"). */
let crc32: typeof import('node:zlib').crc32 | undefined;

function checksum(body: string): string {
  crc32 ??= process.getBuiltinModule('node:zlib').crc32;
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export interface KeyFormat {
  prefix: string;
  env: string;
}

export function generateApiKey({ prefix, env }: KeyFormat): { key: string; display: string } {
  const body = `${prefix}_${env}_${randomBase62(SECRET_LENGTH)}`;
  const key = `${body}${checksum(body)}`;
  return { key, display: `${key.slice(0, prefix.length + env.length + 2 + DISPLAY_LENGTH)}…` };
}

/** Whether `token` is meant as one of our keys (its prefix), whatever its state. */
export function looksLikeApiKey(token: string, { prefix }: KeyFormat): boolean {
  return token.startsWith(`${prefix}_`);
}

export type KeyShape = { ok: true } | { ok: false; reason: 'shape' | 'environment' | 'checksum' };

/** Checks shape, environment and checksum: everything that needs no lookup. */
export function checkApiKeyShape(token: string, { prefix, env }: KeyFormat): KeyShape {
  const m = /^([a-z][a-z0-9]*)_([a-z0-9]+)_([0-9A-Za-z]+)$/.exec(token);
  if (!m || m[1] !== prefix || m[3]!.length !== SECRET_LENGTH + CHECKSUM_LENGTH) return { ok: false, reason: 'shape' };
  if (m[2] !== env) return { ok: false, reason: 'environment' };
  const body = token.slice(0, token.length - CHECKSUM_LENGTH);
  return checksum(body) === token.slice(-CHECKSUM_LENGTH) ? { ok: true } : { ok: false, reason: 'checksum' };
}

/** `90d` / `12h` / `30m` / `2w`, or an ISO 8601 date (src/config/durations.ts); must be in the future. */
export function parseExpiry(value: string | Date, now: number): Date {
  const at = value instanceof Date ? value : readExpiry(value, now);
  if (!at) throw invalidInput(`expiry "${String(value)}" is neither ${DURATION_WORDS} nor ${DATE_WORDS}`);
  if (at.getTime() <= now) throw invalidInput('the expiry must be in the future');
  return at;
}
