// GET /admin/apis — the registered APIs (resources, RFC 8707 audiences), oldest first.
import type { Context } from 'koa';
import { renderConsole, type ConsoleDeps } from './context.ts';

export const apiPath = (identifier: string) => `/admin/apis/${encodeURIComponent(identifier)}`;

export function showApis(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    renderConsole(deps, ctx, 'apis', 'apis', { apis: await deps.admin.resources.list() });
  };
}
