// GET /admin/audit?type=…&user_id=…&client_id=…&since=…&until=…&cursor=… — the
// audit trail, newest first, filtered as the admin API filters it, a page at
// a time with its cursors; links to export what the filters select.
import type { Context } from 'koa';
import { pageAt, renderConsole, type ConsoleDeps } from './context.ts';
import { auditFilter, filterQuery } from './audit-filter.ts';

const PAGE = 50;

export function showAudit(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const { values, filter, cursor, errors } = auditFilter(ctx);
    const at = (c: string | undefined) => deps.admin.audit.page({ ...filter, cursor: c, limit: PAGE });
    const page = errors.length ? { items: [], nextCursor: undefined } : await pageAt(at, cursor, errors);
    if (errors.length) ctx.state.errors = errors;
    const query = filterQuery(values);
    renderConsole(
      deps,
      ctx,
      'audit',
      'audit',
      {
        events: page.items,
        values,
        next: page.nextCursor ? `/admin/audit?${filterQuery(values, { cursor: page.nextCursor })}` : undefined,
        first: cursor ? `/admin/audit${query ? `?${query}` : ''}` : undefined,
        csv: `/admin/audit/export.csv${query ? `?${query}` : ''}`,
        jsonl: `/admin/audit/export.jsonl${query ? `?${query}` : ''}`,
      },
      errors.length ? 400 : undefined,
    );
  };
}
