// GET  /interaction/:uid/forgot — "Forgot your password?"
// POST /interaction/:uid/forgot — sends a reset link; the same answer (and a
// message to the address) whether or not it has an account.
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { field, fieldError, rememberReturn, type InteractionDeps } from './context.ts';

export function showForgotPassword(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const it = await deps.interactions.details(ctx, String(ctx.params.uid));
    if (!deps.settings.mailEnabled) throw notFound('Password reset');
    deps.render(ctx, 'forgot-password', { uid: it.uid, csrf: deps.csrf.token(ctx), email: it.loginHint ?? '' });
  };
}

export function submitForgotPassword(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const it = await deps.interactions.details(ctx, String(ctx.params.uid));
    if (!deps.settings.mailEnabled) throw notFound('Password reset');
    const email = field(ctx, 'email').trim();
    const outcome = await deps.accountLinks.requestPasswordReset(email, requestMeta(ctx, it.clientId), deps.languageOf(ctx));
    if (!outcome.ok)
      return deps.render(
        ctx,
        'forgot-password',
        { uid: it.uid, csrf: deps.csrf.token(ctx), email, errors: fieldError('email', outcome.message), returnTo: `/interaction/${it.uid}/forgot` },
        400,
      );
    rememberReturn(deps, ctx, it.uid);
    deps.render(ctx, 'check-email', { email, purpose: 'reset', uid: it.uid });
  };
}
