// `admin api-key …`: thin callers of src/services/admin/administration.ts.
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { apiKeyView as describeKey } from '../api/views.ts';
import { cliActor } from './actor.ts';
import { printResult, table, UsageError } from './output.ts';

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
        Object.assign({ id: record.id, key }, describeKey(record)),
        () => `id:  ${record.id}\nkey: ${key}\n(shown once: it is stored only as a keyed hash and cannot be shown again)`,
      );
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: { ...json, owner: { type: 'string' } } });
      const owner = values.owner ? await rt.admin.apiKeys.ownerFromId(values.owner) : undefined;
      const keys = (await rt.admin.apiKeys.list({ owner })).map(describeKey);
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
      const key = describeKey(await rt.admin.apiKeys.get(positionals[0]));
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
      throw new UsageError('api-key commands: create, list, show, revoke');
  }
}
