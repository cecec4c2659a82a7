// GET /admin/apps?cursor=… — the registered apps, oldest first, a page at a time (the admin API's cursors).
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { msg } from '../ui/catalogue.ts';
import { queryOf, renderConsole, type ConsoleDeps } from './context.ts';

const PAGE = 25;

export function showApps(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const cursor = queryOf(ctx, 'cursor') || undefined;
    const at = (c: string | undefined) => deps.admin.clients.page({ cursor: c, limit: PAGE });
    const page = await at(cursor).catch((err: unknown) => {
      if (!(err instanceof AppError)) throw err;
      ctx.state.errors = [{ message: msg('console.badCursor') }];
      return at(undefined);
    });
    renderConsole(deps, ctx, 'apps', 'apps', {
      apps: page.items,
      next: page.nextCursor ? `/admin/apps?${new URLSearchParams({ cursor: page.nextCursor })}` : undefined,
      first: cursor ? '/admin/apps' : undefined,
    });
  };
}
