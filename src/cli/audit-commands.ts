// `admin audit list`
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { auditView } from '../api/views.ts';
import { printResult, table, UsageError } from './output.ts';

function date(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${flag} "${value}" is not a date (ISO 8601, e.g. 2026-11-01T00:00:00Z)`);
  return d;
}

export async function auditCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  if (sub !== 'list') throw new UsageError('audit commands: list [--user ID] [--client ID] [--type TYPE] [--since DATE] [--until DATE] [--limit N]');
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      user: { type: 'string' },
      client: { type: 'string' },
      type: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
  const events = (
    await rt.admin.audit.list({
      userId: values.user,
      clientId: values.client,
      type: values.type,
      since: date('since', values.since),
      until: date('until', values.until),
      limit,
    })
  ).map(auditView);
  printResult(values.json, { events }, () =>
    table(
      events.map((e) => ({ ...e, detail: e.detail ? JSON.stringify(e.detail) : '' })),
      ['at', 'type', 'actor', 'target', 'user_id', 'client_id', 'count', 'detail'],
    ),
  );
}
