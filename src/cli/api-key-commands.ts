// `admin api-key …`: thin over src/services/api-keys.ts.
import { parseArgs } from 'node:util';
import type { Runtime } from '../runtime.ts';
import type { ApiKeyRecord } from '../services/api-keys.ts';
import { printResult, table, UsageError } from './output.ts';

export const describeKey = (k: ApiKeyRecord) => ({
  id: k.id,
  display: k.display,
  owner: k.owner,
  name: k.name,
  description: k.description,
  scope: k.scopes.join(' '),
  resource: k.resource,
  allowed_ips: k.allowedCidrs,
  expires_at: k.expiresAt?.toISOString() ?? null,
  created_at: k.createdAt.toISOString(),
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  last_used_ip: k.lastUsedIp,
  revoked_at: k.revokedAt?.toISOString() ?? null,
  active: !k.revokedAt && !k.ownerDisabled && (!k.expiresAt || k.expiresAt.getTime() > Date.now()),
});

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
        throw new UsageError('usage: api-key create --owner ID --name N --scope "a b" [--resource URI] [--expires 90d|DATE] [--allow-ip CIDR …] [--description D]');
      }
      const owner = await rt.apiKeys.ownerFromId(values.owner);
      const { key, record } = await rt.apiKeys.create({
        owner,
        name: values.name,
        description: values.description,
        scope: values.scope,
        resource: values.resource,
        expires: values.expires,
        allowIps: values['allow-ip'],
      });
      printResult(values.json, Object.assign({ id: record.id, key }, describeKey(record)), () =>
        `id:  ${record.id}\nkey: ${key}\n(shown once: it is stored only as a keyed hash and cannot be shown again)`);
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: { ...json, owner: { type: 'string' } } });
      const owner = values.owner ? await rt.apiKeys.ownerFromId(values.owner) : undefined;
      const keys = (await rt.apiKeys.list({ owner })).map(describeKey);
      printResult(values.json, { api_keys: keys }, () =>
        table(keys.map((k) => ({ ...k, owner: k.owner.id })), ['id', 'display', 'owner', 'name', 'scope', 'expires_at', 'last_used_at', 'active']));
      return;
    }
    case 'show': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: json });
      if (!positionals[0]) throw new UsageError('usage: api-key show ID');
      const key = describeKey(await rt.apiKeys.get(positionals[0]));
      printResult(values.json, key, () => JSON.stringify(key, null, 2));
      return;
    }
    case 'revoke': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: json });
      if (!positionals[0]) throw new UsageError('usage: api-key revoke ID');
      const key = await rt.apiKeys.revoke(positionals[0]);
      printResult(values.json, { id: key.id, revoked_at: key.revokedAt!.toISOString() }, () => `API key ${key.id} revoked`);
      return;
    }
    default:
      throw new UsageError('api-key commands: create, list, show, revoke');
  }
}
