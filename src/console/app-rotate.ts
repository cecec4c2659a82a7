// GET  /admin/apps/:id/rotate — what a new secret means, and how long the old one keeps working
// POST /admin/apps/:id/rotate — a new secret (on the answer page only); the old one works
//      for the chosen overlap, so the app can be redeployed without an outage;
//      audited `client.secret_rotated`
import type { Context } from 'koa';
import { invalidInput } from '../errors.ts';
import { msg } from '../ui/catalogue.ts';
import { actorOf, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { appPath } from './app.ts';

/** The overlaps offered, in seconds; a day is chosen unless another is (the CLI's and the admin API's default). */
export const OVERLAPS = [0, 3600, 86_400, 7 * 86_400] as const;
const DEFAULT_OVERLAP = 86_400;

export function confirmRotate(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const app = await deps.admin.clients.get(String(ctx.params.id));
    const say = (o: number) =>
      o === 0 ? msg('console.rotate.none') : o < 86_400 ? msg('console.rotate.hours', { count: o / 3600 }) : msg('console.rotate.days', { count: o / 86_400 });
    renderConsole(deps, ctx, 'app-rotate', 'apps', {
      app,
      overlaps: OVERLAPS.map((o) => ({ value: String(o), label: say(o), checked: o === DEFAULT_OVERLAP })),
      back: appPath(app.clientId),
    });
  };
}

export function rotateSecret(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    const overlap = Number((ctx.request.body as Record<string, unknown>).overlap ?? DEFAULT_OVERLAP);
    if (!(OVERLAPS as readonly number[]).includes(overlap)) throw invalidInput('overlap must be one of the offered choices');
    const { client, clientSecret } = await deps.admin.clients.rotateSecret(actorOf(ctx), id, overlap, undefined, metaOf(ctx));
    ctx.set('Cache-Control', 'no-store');
    renderConsole(deps, ctx, 'app-secret', 'apps', { app: client, secret: clientSecret, created: false, returnTo: appPath(id) });
  };
}
