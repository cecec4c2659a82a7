// `admin audit list`
import { parseArgs } from 'node:util';
import type { Runtime } from '../runtime.ts';
import { printResult, table, UsageError } from './output.ts';

export async function auditCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  if (sub !== 'list') throw new UsageError('audit commands: list [--user ID] [--since DATE] [--limit N]');
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false }, user: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } },
  });
  const since = values.since === undefined ? undefined : new Date(values.since);
  if (since && Number.isNaN(since.getTime())) throw new UsageError(`--since "${values.since}" is not a date (ISO 8601, e.g. 2026-11-01T00:00:00Z)`);
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
  const events = (await rt.audit.list({ userId: values.user, since, limit })).map((e) => ({
    at: e.at.toISOString(),
    type: e.type,
    user_id: e.userId,
    client_id: e.clientId,
    ip: e.ip,
    user_agent: e.userAgent,
    detail: e.detail,
  }));
  printResult(values.json, { events }, () => table(events.map((e) => ({ ...e, detail: e.detail ? JSON.stringify(e.detail) : '' })), ['at', 'type', 'user_id', 'client_id', 'ip', 'detail']));
}
