// `admin resource …`: thin callers of src/services/administration.ts.
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { resourceView as describe } from '../services/admin-views.ts';
import { cliActor } from './actor.ts';
import { printResult, table, UsageError } from './output.ts';

export async function resourceCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const json = { json: { type: 'boolean' as const, default: false } };
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args,
        options: { ...json, identifier: { type: 'string' }, scope: { type: 'string' }, format: { type: 'string' }, ttl: { type: 'string' }, claims: { type: 'string' } },
      });
      if (!values.identifier || !values.scope) throw new UsageError('usage: resource create --identifier URI --scope "a b" [--format jwt|opaque] [--ttl SECONDS] [--claims "email name roles"]');
      const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
      const r = await rt.admin.resources.create(cliActor(), { identifier: values.identifier, scope: values.scope, format: values.format, ttl, claims: values.claims });
      printResult(values.json, describe(r), () => `created resource ${r.identifier} (${r.format}, ${r.ttl} s): ${r.scope}${r.claims.length ? `; person claims: ${r.claims.join(' ')}` : ''}`);
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: json });
      const resources = (await rt.admin.resources.list()).map(describe);
      printResult(values.json, { resources }, () => table(resources.map((r) => ({ ...r, claims: r.claims.join(' ') })), ['identifier', 'format', 'ttl', 'scope', 'claims']));
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
      throw new UsageError('resource commands: create, list, delete');
  }
}
