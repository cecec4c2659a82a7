// GET /admin/callback — only on the console's own listener (ADMIN_CONSOLE_PORT):
// where a sign-in on the issuer comes back; the console keeps the session it
// made (src/oidc/console-session.ts) and opens. A code or a link that is not
// this browser's own sign-in gets a page saying so, with the way to try again.
import type { Context } from 'koa';
import type { Render } from '../middleware/koa-render.ts';
import { msg } from '../ui/catalogue.ts';

export function signInCallback(finish: (ctx: Context) => Promise<boolean>, render: Render) {
  return async (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    if (await finish(ctx)) {
      ctx.status = 303;
      return ctx.redirect('/admin');
    }
    render(ctx, 'error', { message: msg('console.signInFailed'), code: 'invalid_request', back: { href: '/admin', label: msg('console.signInAgain') } }, 400);
  };
}
