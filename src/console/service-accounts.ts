// GET /admin/service-accounts?cursor=… — the service accounts, oldest first, a page at a time (the admin API's cursors).
import type { Context } from 'koa';
import type { FieldError } from '../middleware/koa-render.ts';
import { pageAt, queryOf, renderConsole, type ConsoleDeps } from './context.ts';

const PAGE = 25;

export const accountPath = (id: string) => `/admin/service-accounts/${encodeURIComponent(id)}`;

export function showServiceAccounts(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const cursor = queryOf(ctx, 'cursor') || undefined;
    const at = (c: string | undefined) => deps.admin.serviceAccounts.page({ cursor: c, limit: PAGE });
    const errors: FieldError[] = [];
    const page = await pageAt(at, cursor, errors);
    if (errors.length) ctx.state.errors = errors;
    renderConsole(deps, ctx, 'service-accounts', 'serviceAccounts', {
      accounts: page.items,
      next: page.nextCursor ? `/admin/service-accounts?${new URLSearchParams({ cursor: page.nextCursor })}` : undefined,
      first: cursor ? '/admin/service-accounts' : undefined,
    });
  };
}
