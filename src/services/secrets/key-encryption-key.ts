// Where the key-encryption key comes from: the environment (always in
// production), or, in development only, a file generated into DATA_DIR on
// first start so that `npm start` works with no configuration at all.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Config } from '../../config/env.ts';

export interface ResolvedKek {
  key: Buffer;
  /** Set when the key was generated or read from DATA_DIR (development only). */
  generatedAt?: string;
}

export function resolveKeyEncryptionKey(config: Config): ResolvedKek {
  if (config.keyEncryptionKey) return { key: config.keyEncryptionKey };
  if (config.production) {
    // loadConfig already refuses this; kept so that no path can skip it.
    throw new Error('LATCHKEY_KEY_ENCRYPTION_KEY is required when NODE_ENV=production');
  }
  const dir = resolve(config.dataDir);
  const file = join(dir, 'key-encryption-key');
  if (!existsSync(file)) {
    // 0700, as the database code makes it: whichever runs first creates it (umask still applies).
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold base64 of 32 bytes`);
  return { key, generatedAt: file };
}
