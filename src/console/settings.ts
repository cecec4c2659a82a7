// GET /admin/settings — every setting as it took effect at start-up, read-only:
// its value (as given, or the default in effect) and where it came from. A
// secret, or a setting that may hold one (DATABASE_URL, SMTP_URL), is shown
// only as set or not set.
import type { Context } from 'koa';
import { renderConsole, type ConsoleDeps } from './context.ts';

export function showSettings(deps: ConsoleDeps) {
  return async (ctx: Context) => renderConsole(deps, ctx, 'settings', 'settings', { settings: deps.effectiveSettings });
}
