// GET  /verify-email?token=… — the link from a sign-up or confirmation mail:
// a page with a button (mail scanners that fetch links must not use them up)
// POST /verify-email — uses the link: the account is created, or the address
// marked confirmed. Works in any browser; the one the sign-in started in is
// offered to go back to it.
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { continueUrl, field, linkProblem, renderLinkRefused, type InteractionDeps } from './context.ts';

export function showVerifyEmail(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const token = String(ctx.query.token ?? '');
    const found = await deps.accountLinks.peekConfirmation(token);
    if (!found.ok) return renderLinkRefused(deps, ctx, found.reason);
    deps.render(ctx, 'confirm-email', { token, email: found.link.email, signup: found.link.purpose === 'signup', csrf: deps.csrf.token(ctx) });
  };
}

export function submitVerifyEmail(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const outcome = await deps.accountLinks.confirmEmail(field(ctx, 'token'), requestMeta(ctx));
    if (!outcome.ok) {
      return deps.render(ctx, 'link-done', { heading: 'This link cannot be used', problem: linkProblem(outcome.reason), next: '/account', nextLabel: 'Sign in' }, outcome.reason === 'exists' ? 409 : 400);
    }
    deps.render(ctx, 'link-done', {
      heading: outcome.created ? 'Your account is ready' : 'Your email address is confirmed',
      message: `${outcome.email} is confirmed.${outcome.created ? ' Sign in with the password you chose.' : ''}`,
      next: await continueUrl(deps, ctx, 'confirmed'),
      nextLabel: 'Continue to sign in',
    });
  };
}
