// `admin keys …` (signing keys) and `admin kek rotate` (the key-encryption key).
import { parseArgs } from 'node:util';
import type { Runtime } from '../runtime.ts';
import { rewrapSecrets } from '../services/kek-rotation.ts';
import { createSecretBox } from '../services/secret-box.ts';
import { keyStatus, ROTATABLE_ALGS, rotateSigningKey, type SigningAlg } from '../services/signing-keys.ts';
import { printResult, table, UsageError } from './output.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export async function keysCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const json = { json: { type: 'boolean' as const, default: false } };
  switch (sub) {
    case 'list':
    case 'status': {
      const { values } = parseArgs({ args, options: json });
      const now = Date.now();
      const keys = (await keyStatus(rt.db)).filter((k) => sub === 'status' || k.state !== 'retired').map((k) => ({
        kid: k.kid,
        alg: k.alg,
        state: k.state,
        created_at: iso(k.createdAt),
        activates_at: iso(k.activatesAt),
        retires_at: iso(k.retiresAt),
        ...(sub === 'status'
          ? {
              next_change:
                k.state === 'next' && k.activatesAt ? `signs in ${Math.max(0, Math.ceil((k.activatesAt.getTime() - now) / 1000))} s`
                : k.state === 'retiring' && k.retiresAt ? `unpublished in ${Math.max(0, Math.ceil((k.retiresAt.getTime() - now) / 1000))} s`
                : null,
            }
          : {}),
      }));
      printResult(values.json, { keys }, () => table(keys, ['kid', 'alg', 'state', ...(sub === 'status' ? ['next_change'] : ['created_at'])]));
      return;
    }
    case 'rotate': {
      const { values } = parseArgs({ args, options: { ...json, alg: { type: 'string', default: 'RS256' } } });
      if (!(ROTATABLE_ALGS as readonly string[]).includes(values.alg)) throw new UsageError(`--alg must be one of ${ROTATABLE_ALGS.join(', ')}`);
      const activatesAt = new Date(Date.now() + rt.config.keyRotationDelay * 1000);
      const kid = await rotateSigningKey(rt.db, rt.box, values.alg as SigningAlg, activatesAt);
      printResult(values.json, { kid, alg: values.alg, state: 'next', activates_at: activatesAt.toISOString() }, () =>
        `new ${values.alg} key ${kid} is published now and signs from ${activatesAt.toISOString()} (after KEY_ROTATION_DELAY=${rt.config.keyRotationDelay} s)`);
      return;
    }
    default:
      throw new UsageError('keys commands: list, status, rotate [--alg RS256|ES256|EdDSA]');
  }
}

export async function kekCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  if (sub !== 'rotate') throw new UsageError('kek commands: rotate (reads LATCHKEY_NEW_KEY_ENCRYPTION_KEY)');
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const next = process.env.LATCHKEY_NEW_KEY_ENCRYPTION_KEY ?? '';
  const key = Buffer.from(next, 'base64');
  if (key.length !== 32) throw new UsageError('set LATCHKEY_NEW_KEY_ENCRYPTION_KEY to base64 of 32 random bytes (openssl rand -base64 32)');
  const counts = await rewrapSecrets(rt.db, rt.box, createSecretBox(key));
  printResult(values.json, { rewrapped: counts }, () =>
    `re-encrypted ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}.\nNow set LATCHKEY_KEY_ENCRYPTION_KEY to the new key on every node and restart them.`);
}
