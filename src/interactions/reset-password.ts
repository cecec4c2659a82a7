// GET  /reset-password?token=… — the link from a reset mail: a form for the
// new password (mail scanners that fetch the link do not use it up)
// POST /reset-password — sets it: every session of the person ends and
// every refresh token, grant and API key is revoked (src/services/links/account-links.ts).
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { continueUrl, field, renderLinkRefused as linkRefused, type InteractionDeps } from './context.ts';

export function showResetPassword(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const token = String(ctx.query.token ?? '');
    const target = await deps.accountLinks.peekReset(token);
    if (!target.ok) return linkRefused(deps, ctx, target.reason);
    deps.render(ctx, 'reset-password', { token, email: target.email, csrf: deps.csrf.token(ctx) });
  };
}

export function submitResetPassword(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const token = field(ctx, 'token');
    const password = field(ctx, 'password');
    const again = async (error: string) => {
      const target = await deps.accountLinks.peekReset(token);
      if (!target.ok) return linkRefused(deps, ctx, target.reason);
      deps.render(ctx, 'reset-password', { token, email: target.email, csrf: deps.csrf.token(ctx), error }, 400);
    };
    if (password !== field(ctx, 'confirm')) return again('The passwords do not match.');
    const outcome = await deps.accountLinks.resetPassword(token, password, requestMeta(ctx));
    if (!outcome.ok) return 'field' in outcome ? again(outcome.message) : linkRefused(deps, ctx, outcome.reason);
    deps.render(ctx, 'link-done', {
      heading: 'Your password was changed',
      message: 'You were signed out everywhere, your API keys were revoked, and apps that had access will ask you to sign in again.',
      next: await continueUrl(deps, ctx, 'reset'),
      nextLabel: 'Continue to sign in',
    });
  };
}
