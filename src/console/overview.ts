// GET /admin — the console's start: the most recent audit events, and the way to each section.
import type { Context } from 'koa';
import { renderConsole, type ConsoleDeps } from './context.ts';

const RECENT = 10;

export function showOverview(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const recent = await deps.admin.audit.page({ limit: RECENT });
    renderConsole(deps, ctx, 'overview', 'overview', { events: recent.items });
  };
}
