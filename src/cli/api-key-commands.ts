// `admin api-key …`: thin callers of src/services/admin/administration.ts. A key's
// `active` is said against the system clock: a CLI runtime's clock is never moved (and
// reading `rt.clock` through the lazily opened runtime would open the database).
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { apiKeyView as describeKey } from '../api/views.ts';
import { cliActor } from './actor.ts';
import { printResult, readStdin, table, UsageError } from './output.ts';
import { jsonLinesFrom, onConflictOf, printImport } from './import-input.ts';

const IMPORT_USAGE =
  'usage: api-key import --owner ID --name N --scope "a b" [--resource URI] [--expires 90d|DATE] [--allow-ip CIDR …] (--key-stdin | --key-sha256 HEX), ' +
  'or api-key import --file keys.jsonl|- [--dry-run] [--on-conflict skip|fail]';

export async function apiKeyCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const json = { json: { type: 'boolean' as const, default: false } };
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args,
        options: {
          ...json,
          owner: { type: 'string' },
          name: { type: 'string' },
          description: { type: 'string' },
          scope: { type: 'string' },
          resource: { type: 'string' },
          expires: { type: 'string' },
          'allow-ip': { type: 'string', multiple: true },
        },
      });
      if (!values.owner || !values.name || !values.scope) {
        throw new UsageError(
          'usage: api-key create --owner ID --name N --scope "a b" [--resource URI] [--expires 90d|DATE] [--allow-ip CIDR …] [--description D]',
        );
      }
      const owner = await rt.admin.apiKeys.ownerFromId(values.owner);
      const { key, record } = await rt.admin.apiKeys.create(cliActor(), {
        owner,
        name: values.name,
        description: values.description,
        scope: values.scope,
        resource: values.resource,
        expires: values.expires,
        allowIps: values['allow-ip'],
      });
      printResult(
        values.json,
        Object.assign({ id: record.id, key }, describeKey(record, Date.now())),
        () => `id:  ${record.id}\nkey: ${key}\n(shown once: it is stored only as a keyed hash and cannot be shown again)`,
      );
      return;
    }
    case 'import': {
      const { values } = parseArgs({
        args,
        options: {
          ...json,
          file: { type: 'string' },
          'dry-run': { type: 'boolean', default: false },
          'on-conflict': { type: 'string' },
          owner: { type: 'string' },
          name: { type: 'string' },
          description: { type: 'string' },
          scope: { type: 'string' },
          resource: { type: 'string' },
          expires: { type: 'string' },
          'allow-ip': { type: 'string', multiple: true },
          'key-stdin': { type: 'boolean', default: false },
          'key-sha256': { type: 'string' },
        },
      });
      if (values.file !== undefined) {
        if (values.owner || values['key-stdin'] || values['key-sha256']) throw new UsageError(`--file takes the keys from the file; ${IMPORT_USAGE}`);
        const onConflict = onConflictOf(values['on-conflict']);
        const lines = jsonLinesFrom(values.file, IMPORT_USAGE);
        printImport(values.json, 'API keys', await rt.admin.apiKeys.import(cliActor(), lines, { dryRun: values['dry-run'], onConflict }));
        return;
      }
      if (!values.owner || !values.name || !values.scope || values['key-stdin'] === (values['key-sha256'] !== undefined)) throw new UsageError(IMPORT_USAGE);
      const key = values['key-stdin'] ? (await readStdin()).trim() : undefined;
      const owner = await rt.admin.apiKeys.ownerFromId(values.owner);
      const { record, existing } = await rt.admin.apiKeys.importOne(cliActor(), {
        owner,
        name: values.name,
        description: values.description,
        scope: values.scope,
        resource: values.resource,
        expires: values.expires,
        allowIps: values['allow-ip'],
        key,
        keySha256: values['key-sha256'],
      });
      const shown = describeKey((record ?? existing)!, Date.now());
      printResult(values.json, { ...shown, imported: Boolean(record) }, () =>
        record ? `imported as ${record.id} (${record.display}); it works as it did` : `already imported as ${existing!.id}; nothing changed`,
      );
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: { ...json, owner: { type: 'string' } } });
      const owner = values.owner ? await rt.admin.apiKeys.ownerFromId(values.owner) : undefined;
      const keys = (await rt.admin.apiKeys.list({ owner })).map((k) => describeKey(k, Date.now()));
      printResult(values.json, { api_keys: keys }, () =>
        table(
          keys.map((k) => ({ ...k, owner: k.owner.id })),
          ['id', 'display', 'owner', 'name', 'scope', 'expires_at', 'last_used_at', 'active'],
        ),
      );
      return;
    }
    case 'show': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: json });
      if (!positionals[0]) throw new UsageError('usage: api-key show ID');
      const key = describeKey(await rt.admin.apiKeys.get(positionals[0]), Date.now());
      printResult(values.json, key, () => JSON.stringify(key, null, 2));
      return;
    }
    case 'revoke': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: json });
      if (!positionals[0]) throw new UsageError('usage: api-key revoke ID');
      const key = await rt.admin.apiKeys.revoke(cliActor(), positionals[0]);
      printResult(values.json, { id: key.id, revoked_at: key.revokedAt!.toISOString() }, () => `API key ${key.id} revoked`);
      return;
    }
    default:
      throw new UsageError('api-key commands: create, import, list, show, revoke');
  }
}
