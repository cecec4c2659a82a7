// POST /admin/people/:id/roles — gives a role (`role` field)
// POST /admin/people/:id/roles/:role/remove — takes one away
// Audited `role_added` / `role_removed`; a role already there (or absent) changes nothing.
// An administrator cannot take the administrator role from themself here: the
// console would lock out the last person able to give it back.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { msg } from '../ui/catalogue.ts';
import { actorOf, backWith, consoleOf, metaOf, type ConsoleDeps } from './context.ts';
import { renderPerson } from './person.ts';

const personPath = (id: string) => `/admin/people/${encodeURIComponent(id)}`;

export function addRole(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    const role = String((ctx.request.body as Record<string, unknown>).role ?? '').trim();
    try {
      const changed = await deps.admin.users.setRole(actorOf(ctx), id, role, true, metaOf(ctx));
      backWith(ctx, personPath(id), changed ? 'role-added' : 'role-unchanged');
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'invalid_input') throw err;
      ctx.state.errors = [{ field: 'role', message: msg('console.person.badRole') }];
      await renderPerson(deps, ctx, id, 400);
    }
  };
}

export function removeRole(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    const role = String(ctx.params.role);
    if (id === consoleOf(ctx).user.id && role === deps.settings.adminRole) {
      ctx.state.errors = [{ message: msg('console.person.ownAdminRole') }];
      return renderPerson(deps, ctx, id, 409);
    }
    const changed = await deps.admin.users.setRole(actorOf(ctx), id, role, false, metaOf(ctx));
    backWith(ctx, personPath(id), changed ? 'role-removed' : 'role-unchanged');
  };
}
