// GET /admin/people?q=…&cursor=… — people, oldest first, a page at a time
// (the admin API's cursors); `q` finds an address or a name containing it, or an id.
import type { Context } from 'koa';
import type { FieldError } from '../middleware/koa-render.ts';
import { pageAt, queryOf, renderConsole, type ConsoleDeps } from './context.ts';

const PAGE = 25;

export function showPeople(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const search = queryOf(ctx, 'q').trim().slice(0, 200);
    const cursor = queryOf(ctx, 'cursor') || undefined;
    const at = (c: string | undefined) => deps.admin.users.page({ search: search || undefined, cursor: c, limit: PAGE });
    const errors: FieldError[] = [];
    const page = await pageAt(at, cursor, errors);
    if (errors.length) ctx.state.errors = errors;
    const roles = new Map(await Promise.all(page.items.map(async (u) => [u.id, await deps.admin.users.roles(u.id)] as const)));
    const next = page.nextCursor ? `/admin/people?${new URLSearchParams({ ...(search ? { q: search } : {}), cursor: page.nextCursor })}` : undefined;
    renderConsole(deps, ctx, 'people', 'people', {
      people: page.items.map((u) => ({ ...u, roles: roles.get(u.id) ?? [] })),
      search,
      next,
      first: cursor ? `/admin/people${search ? `?${new URLSearchParams({ q: search })}` : ''}` : undefined,
    });
  };
}
