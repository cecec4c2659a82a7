// GET /admin/audit/export.csv?… and /admin/audit/export.jsonl?… — what the
// audit page's filters select, newest first, as a download: JSON Lines in the
// admin API's wire shape (auditView), or CSV with the same columns (detail as
// JSON). Read a page at a time with the admin API's cursors, at most
// EXPORT_MAX rows (narrow the filters for more). A CSV cell that a spreadsheet
// would run as a formula is prefixed with an apostrophe.
import type { Context } from 'koa';
import { auditView } from '../api/views.ts';
import { invalidInput } from '../errors.ts';
import type { ConsoleDeps } from './context.ts';
import { auditFilter } from './audit-filter.ts';

export const EXPORT_MAX = 10_000;
const BATCH = 200;
const COLUMNS = ['id', 'at', 'type', 'actor', 'target', 'user_id', 'client_id', 'ip', 'user_agent', 'count', 'detail'] as const;

function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function* rows(deps: ConsoleDeps, ctx: Context) {
  const { filter, errors } = auditFilter(ctx);
  if (errors.length) throw invalidInput('the audit filters are not valid; correct them on the audit page');
  let cursor: string | undefined;
  let sent = 0;
  do {
    const page = await deps.admin.audit.page({ ...filter, cursor, limit: BATCH });
    for (const e of page.items) {
      if (sent++ >= EXPORT_MAX) return;
      yield auditView(e);
    }
    cursor = page.nextCursor;
  } while (cursor);
}

function exporter(deps: ConsoleDeps, kind: 'csv' | 'jsonl') {
  return async (ctx: Context) => {
    const lines: string[] = kind === 'csv' ? [COLUMNS.join(',')] : [];
    for await (const row of rows(deps, ctx)) {
      lines.push(kind === 'csv' ? COLUMNS.map((c) => csvCell(row[c])).join(',') : JSON.stringify(row));
    }
    const stamp = new Date(deps.clock.now()).toISOString().replace(/[:.]/g, '-');
    ctx.type = kind === 'csv' ? 'text/csv; charset=utf-8' : 'application/jsonl; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="audit-${stamp}.${kind}"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = lines.length ? `${lines.join('\n')}\n` : '';
  };
}

export const exportCsv = (deps: ConsoleDeps) => exporter(deps, 'csv');
export const exportJsonLines = (deps: ConsoleDeps) => exporter(deps, 'jsonl');
