// `admin resource …`: thin callers of src/services/admin/administration.ts.
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { resourceView as describe } from '../api/views.ts';
import { parseScopeRoles, type ResourceServerRecord } from '../services/apis/resource-servers.ts';
import { cliActor } from './actor.ts';
import { printResult, table, UsageError } from './output.ts';

const CREATE_USAGE =
  'usage: resource create --identifier URI --scope "a b" [--scope-role SCOPE=ROLE[,ROLE…] …] [--machines-only] ' +
  '[--format jwt|opaque] [--ttl SECONDS] [--claims "email name roles"]';
const UPDATE_USAGE =
  'usage: resource update IDENTIFIER [--scope "a b"] [--scope-role SCOPE=ROLE[,ROLE…] | SCOPE= …] ' +
  '[--machines-only true|false] [--format jwt|opaque] [--ttl SECONDS] [--claims "email name roles"]';

const settings = {
  scope: { type: 'string' as const },
  'scope-role': { type: 'string' as const, multiple: true as const },
  format: { type: 'string' as const },
  ttl: { type: 'string' as const },
  claims: { type: 'string' as const },
};

const ttlOf = (v: string | undefined) => (v === undefined ? undefined : Number(v));

const restrictions = (r: ResourceServerRecord) =>
  Object.entries(r.scopeRoles)
    .map(([scope, roles]) => `${scope}=${roles.join(',')}`)
    .join(' ');

const summary = (verb: string, r: ResourceServerRecord) =>
  `${verb} resource ${r.identifier} (${r.format}, ${r.ttl} s): ${r.scope}` +
  (r.machinesOnly ? '; machines only' : '') +
  (Object.keys(r.scopeRoles).length ? `; scope roles: ${restrictions(r)}` : '') +
  (r.claims.length ? `; person claims: ${r.claims.join(' ')}` : '');

export async function resourceCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const json = { json: { type: 'boolean' as const, default: false } };
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args,
        options: { ...json, ...settings, identifier: { type: 'string' }, 'machines-only': { type: 'boolean' } },
      });
      if (!values.identifier || !values.scope) throw new UsageError(CREATE_USAGE);
      const r = await rt.admin.resources.create(cliActor(), {
        identifier: values.identifier,
        scope: values.scope,
        format: values.format,
        ttl: ttlOf(values.ttl),
        claims: values.claims,
        scopeRoles: parseScopeRoles(values['scope-role'] ?? []),
        machinesOnly: values['machines-only'],
      });
      printResult(values.json, describe(r), () => summary('created', r));
      return;
    }
    case 'update': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { ...json, ...settings, 'machines-only': { type: 'string' } },
      });
      if (!positionals[0]) throw new UsageError(UPDATE_USAGE);
      const machinesOnly = values['machines-only'];
      if (machinesOnly !== undefined && machinesOnly !== 'true' && machinesOnly !== 'false') throw new UsageError('--machines-only must be true or false');
      const r = await rt.admin.resources.update(cliActor(), positionals[0], {
        scope: values.scope,
        format: values.format,
        ttl: ttlOf(values.ttl),
        claims: values.claims,
        scopeRoles: values['scope-role'] ? parseScopeRoles(values['scope-role']) : undefined,
        machinesOnly: machinesOnly === undefined ? undefined : machinesOnly === 'true',
      });
      printResult(values.json, describe(r), () => summary('updated', r));
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: json });
      const records = await rt.admin.resources.list();
      printResult(values.json, { resources: records.map(describe) }, () =>
        table(
          records.map((r) => ({ ...describe(r), claims: r.claims.join(' '), scope_roles: restrictions(r), machines_only: r.machinesOnly ? 'yes' : '' })),
          ['identifier', 'format', 'ttl', 'scope', 'scope_roles', 'machines_only', 'claims'],
        ),
      );
      return;
    }
    case 'delete': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: json });
      if (!positionals[0]) throw new UsageError('usage: resource delete IDENTIFIER');
      await rt.admin.resources.delete(cliActor(), positionals[0]);
      printResult(values.json, { deleted: positionals[0] }, () => `deleted resource ${positionals[0]}`);
      return;
    }
    default:
      throw new UsageError('resource commands: create, update, list, delete');
  }
}
