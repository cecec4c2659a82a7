// `config export` and `config apply`: apps, APIs, service accounts and roles
// as one YAML or JSON file (src/services/config/config-file.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { cliActor } from './actor.ts';
import { printResult, readStdin, UsageError } from './output.ts';
import { describePlanItem } from '../services/config/config-file.ts';

const APPLY_USAGE = 'usage: config apply --file F|- [--dry-run] [--prune] [--json]';

function readDocument(file: string, text: string): unknown {
  try {
    // YAML is a superset of JSON: one parser reads both.
    return parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new UsageError(`--file ${file} is neither YAML nor JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

export async function configCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  switch (sub) {
    case 'export': {
      const { values } = parseArgs({ args, options: { file: { type: 'string' }, format: { type: 'string' } } });
      const format = values.format ?? (values.file?.endsWith('.json') ? 'json' : 'yaml');
      if (format !== 'yaml' && format !== 'json') throw new UsageError(`--format must be yaml or json (got "${format}")`);
      const doc = await rt.admin.config.export();
      const text = format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc, { lineWidth: 0 });
      if (values.file) {
        writeFileSync(values.file, text, { mode: 0o600 });
        process.stderr.write(
          `wrote ${doc.clients.length} clients, ${doc.resources.length} resources, ${doc.service_accounts.length} service accounts, ` +
            `${doc.roles.length} roles to ${values.file}\n`,
        );
      } else process.stdout.write(text);
      return;
    }
    case 'apply': {
      const { values } = parseArgs({
        args,
        options: {
          file: { type: 'string' },
          'dry-run': { type: 'boolean', default: false },
          prune: { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
      });
      if (!values.file) throw new UsageError(APPLY_USAGE);
      let text: string;
      try {
        text = values.file === '-' ? await readStdin() : readFileSync(values.file, 'utf8');
      } catch (err) {
        throw new UsageError(
          `cannot read --file ${values.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
        );
      }
      const result = await rt.admin.config.apply(readDocument(values.file, text), cliActor(), {
        dryRun: values['dry-run'],
        prune: values.prune,
        env: process.env,
      });
      printResult(values.json, { ...result }, () =>
        [
          ...(result.plan.length ? result.plan.map(describePlanItem) : ['no changes: the server matches the file']),
          ...(result.dry_run && result.plan.length ? ['dry run: nothing was changed'] : []),
          ...result.secrets.map((s) => `secret of new ${s.kind.replace('_', ' ')} ${s.id} (shown once, stored as a keyed hash or sealed): ${s.secret}`),
        ].join('\n'),
      );
      return;
    }
    default:
      throw new UsageError('config commands: export [--file F] [--format yaml|json], apply --file F [--dry-run] [--prune]');
  }
}
