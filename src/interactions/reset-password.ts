// GET  /reset-password?token=… — the link from a reset mail: a form for the
// new password (mail scanners that fetch the link do not use it up)
// POST /reset-password — sets it: every session of the person ends and
// every refresh token, grant and API key is revoked (src/services/links/account-links.ts).
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { msg, type Message } from '../ui/catalogue.ts';
import { continueUrl, field, fieldError, renderLinkRefused as linkRefused, type InteractionDeps } from './context.ts';

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
    const again = async (field: string, error: Message) => {
      const target = await deps.accountLinks.peekReset(token);
      if (!target.ok) return linkRefused(deps, ctx, target.reason);
      deps.render(
        ctx,
        'reset-password',
        {
          token,
          email: target.email,
          csrf: deps.csrf.token(ctx),
          errors: fieldError(field, error),
          returnTo: `/reset-password?token=${encodeURIComponent(token)}`,
        },
        400,
      );
    };
    if (password !== field(ctx, 'confirm')) return again('confirm', msg('common.passwordsDiffer'));
    const outcome = await deps.accountLinks.resetPassword(token, password, requestMeta(ctx));
    if (!outcome.ok) return 'field' in outcome ? again(outcome.field, outcome.message) : linkRefused(deps, ctx, outcome.reason);
    deps.render(ctx, 'link-done', {
      heading: msg('linkDone.passwordChanged'),
      message: msg('linkDone.passwordChangedLead'),
      next: await continueUrl(deps, ctx, 'reset'),
      nextLabel: msg('linkDone.continue'),
      returnTo: '/',
    });
  };
}
