// `admin keys …` (signing keys) and `admin kek rotate` (the key-encryption key).
import { cliIo } from './io.ts';
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { createSecretBox } from '../services/secrets/secret-box.ts';
import { ROTATABLE_ALGS, type SigningAlg } from '../services/secrets/signing-keys.ts';
import { signingKeyView } from '../api/views.ts';
import { cliActor } from './actor.ts';
import { printResult, table, UsageError } from './output.ts';

export async function keysCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const json = { json: { type: 'boolean' as const, default: false } };
  switch (sub) {
    case 'list':
    case 'status': {
      const { values } = parseArgs({ args, options: json });
      const keys = (await rt.admin.signingKeys.status())
        .filter((k) => sub === 'status' || k.state !== 'retired')
        .map((k) => {
          const { next_change, ...view } = signingKeyView(k, Date.now()); // the CLI runtime's clock is the system's;
          return sub === 'status' ? { ...view, next_change } : view;
        });
      printResult(values.json, { keys }, () => table(keys, ['kid', 'alg', 'state', ...(sub === 'status' ? ['next_change'] : ['created_at'])]));
      return;
    }
    case 'rotate': {
      const { values } = parseArgs({ args, options: { ...json, alg: { type: 'string', default: 'RS256' } } });
      if (!(ROTATABLE_ALGS as readonly string[]).includes(values.alg)) throw new UsageError(`--alg must be one of ${ROTATABLE_ALGS.join(', ')}`);
      const { kid, activatesAt } = await rt.admin.signingKeys.rotate(cliActor(), values.alg as SigningAlg);
      printResult(
        values.json,
        { kid, alg: values.alg, state: 'next', activates_at: activatesAt.toISOString() },
        () =>
          `new ${values.alg} key ${kid} is published now and signs from ` +
          `${activatesAt.toISOString()} (after KEY_ROTATION_DELAY=${rt.config.keyRotationDelay} s)`,
      );
      return;
    }
    default:
      throw new UsageError('keys commands: list, status, rotate [--alg RS256|ES256|EdDSA]');
  }
}

export async function kekCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  if (sub !== 'rotate') throw new UsageError('kek commands: rotate (reads LATCHKEY_NEW_KEY_ENCRYPTION_KEY)');
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const next = cliIo().env.LATCHKEY_NEW_KEY_ENCRYPTION_KEY ?? '';
  const key = Buffer.from(next, 'base64');
  if (key.length !== 32) throw new UsageError('set LATCHKEY_NEW_KEY_ENCRYPTION_KEY to base64 of 32 random bytes (openssl rand -base64 32)');
  const counts = await rt.admin.rotateKeyEncryptionKey(cliActor(), createSecretBox(key));
  printResult(
    values.json,
    { rewrapped: counts },
    () =>
      `re-encrypted ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}.\nNow set LATCHKEY_KEY_ENCRYPTION_KEY to the new key on every node and restart them.`,
  );
}
