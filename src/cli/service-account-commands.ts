// `admin service-account …`: thin callers of src/services/admin/administration.ts.
import { readFileSync } from 'node:fs';
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { invalidInput } from '../errors.ts';
import { GENERATED_KEY_ALGS, JWT_BEARER, SELF_SIGNED_MAX_LIFETIME, parseJwksText, type ServiceGrant } from '../services/machines/service-accounts.ts';
import { serviceAccountView as describe } from '../api/views.ts';
import { cliActor } from './actor.ts';
import { printResult, readStdin, table, UsageError } from './output.ts';

const GRANT_NAMES: Record<string, ServiceGrant> = { 'jwt-bearer': JWT_BEARER, client_credentials: 'client_credentials' };

export function readJwksFile(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw invalidInput(`cannot read ${path}`);
  }
  return parseJwksText(text, path);
}

function parseExpiry(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--key-expires "${value}" is not a date (use ISO 8601, e.g. 2027-01-31T00:00:00Z)`);
  if (d.getTime() <= Date.now()) throw new UsageError('--key-expires must be in the future');
  return d;
}

function selfSignedLifetime(on: boolean, seconds: string | undefined): number | undefined {
  if (seconds !== undefined && !on) throw new UsageError('--self-signed-max-lifetime goes with --self-signed-tokens');
  if (!on) return undefined;
  if (seconds === undefined) return SELF_SIGNED_MAX_LIFETIME;
  if (!/^\d+$/.test(seconds)) throw new UsageError('--self-signed-max-lifetime must be a whole number of seconds');
  return Number(seconds);
}

export async function serviceAccountCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const json = { json: { type: 'boolean' as const, default: false } };
  const actor = cliActor();
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args,
        options: {
          ...json,
          name: { type: 'string' },
          scope: { type: 'string' },
          'default-scope': { type: 'string' },
          'jwks-file': { type: 'string' },
          'generate-key': { type: 'string' },
          'shared-secret': { type: 'boolean', default: false },
          'shared-secret-stdin': { type: 'boolean', default: false },
          'client-id': { type: 'string' },
          'self-signed-tokens': { type: 'boolean', default: false },
          'self-signed-max-lifetime': { type: 'string' },
          grant: { type: 'string', multiple: true },
          'key-expires': { type: 'string' },
        },
      });
      if (!values.name) throw new UsageError('service-account create needs --name NAME');
      if (!values.scope) throw new UsageError('service-account create needs --scope "a b"');
      const gen = values['generate-key'];
      if (gen && !(GENERATED_KEY_ALGS as readonly string[]).includes(gen)) {
        throw new UsageError(`--generate-key must be one of ${GENERATED_KEY_ALGS.join(', ')}`);
      }
      const grants = values.grant?.map((g) => {
        const grant = GRANT_NAMES[g];
        if (!grant) throw new UsageError(`--grant must be jwt-bearer or client_credentials, not "${g}"`);
        return grant;
      });
      const { account, privateJwk, sharedSecret } = await rt.admin.serviceAccounts.create(actor, {
        name: values.name,
        scope: values.scope,
        defaultScope: values['default-scope'],
        grants,
        jwks: values['jwks-file'] ? readJwksFile(values['jwks-file']) : undefined,
        generateKey: gen as (typeof GENERATED_KEY_ALGS)[number] | undefined,
        sharedSecret: values['shared-secret'],
        importedSecret: values['shared-secret-stdin'] ? await readStdin() : undefined,
        clientId: values['client-id'],
        selfSignedMaxLifetime: selfSignedLifetime(values['self-signed-tokens'], values['self-signed-max-lifetime']),
        keyExpiresAt: parseExpiry(values['key-expires']),
      });
      printResult(
        values.json,
        { client_id: account.clientId, ...(privateJwk ? { private_key: privateJwk } : {}), ...(sharedSecret ? { shared_secret: sharedSecret } : {}) },
        () =>
          [
            `client_id: ${account.clientId}`,
            privateJwk ? `private key (JWK; shown once, not stored):\n${JSON.stringify(privateJwk)}` : '',
            sharedSecret ? `shared secret (HS256; shown once, stored encrypted): ${sharedSecret}` : '',
          ]
            .filter(Boolean)
            .join('\n'),
      );
      return;
    }
    case 'add-key': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { ...json, 'jwks-file': { type: 'string' }, 'key-expires': { type: 'string' } },
      });
      if (!positionals[0] || !values['jwks-file']) throw new UsageError('usage: service-account add-key ID --jwks-file FILE [--key-expires DATE]');
      const kids = await rt.admin.serviceAccounts.addKeys(actor, positionals[0], readJwksFile(values['jwks-file']), parseExpiry(values['key-expires']));
      printResult(values.json, { client_id: positionals[0], added: kids }, () => `added ${kids.join(', ')}`);
      return;
    }
    case 'remove-key': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: json });
      if (positionals.length !== 2) throw new UsageError('usage: service-account remove-key ID KID');
      await rt.admin.serviceAccounts.removeKey(actor, positionals[0]!, positionals[1]!);
      printResult(values.json, { client_id: positionals[0], removed: positionals[1] }, () => `removed ${positionals[1]}`);
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: json });
      const accounts = (await rt.admin.serviceAccounts.list()).map(describe);
      printResult(values.json, { service_accounts: accounts }, () =>
        table(
          accounts.map((a) => ({ ...a, keys: a.keys.map((k) => k.kid).join(',') })),
          ['client_id', 'name', 'credential', 'keys', 'disabled'],
        ),
      );
      return;
    }
    case 'show': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: json });
      if (!positionals[0]) throw new UsageError('usage: service-account show ID');
      const account = describe(await rt.admin.serviceAccounts.get(positionals[0]));
      printResult(values.json, account, () => JSON.stringify(account, null, 2));
      return;
    }
    case 'disable':
    case 'enable': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: json });
      if (!positionals[0]) throw new UsageError(`usage: service-account ${sub} ID`);
      await rt.admin.serviceAccounts.setDisabled(actor, positionals[0], sub === 'disable');
      printResult(values.json, { client_id: positionals[0], disabled: sub === 'disable' }, () => `service account ${positionals[0]} ${sub}d`);
      return;
    }
    default:
      throw new UsageError('service-account commands: create, add-key, remove-key, list, show, disable, enable');
  }
}
