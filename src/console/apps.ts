// GET /admin/apps?cursor=… — the registered apps, oldest first, a page at a time (the admin API's cursors).
import type { Context } from 'koa';
import type { FieldError } from '../middleware/koa-render.ts';
import { pageAt, queryOf, renderConsole, type ConsoleDeps } from './context.ts';

const PAGE = 25;

export function showApps(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const cursor = queryOf(ctx, 'cursor') || undefined;
    const at = (c: string | undefined) => deps.admin.clients.page({ cursor: c, limit: PAGE });
    const errors: FieldError[] = [];
    const page = await pageAt(at, cursor, errors);
    if (errors.length) ctx.state.errors = errors;
    renderConsole(deps, ctx, 'apps', 'apps', {
      apps: page.items,
      next: page.nextCursor ? `/admin/apps?${new URLSearchParams({ cursor: page.nextCursor })}` : undefined,
      first: cursor ? '/admin/apps' : undefined,
    });
  };
}
