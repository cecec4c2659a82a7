// GET  /interaction/:uid/signup — the sign-up page (also for prompt=create)
// POST /interaction/:uid/signup — email and name; answered with "check your
// email" whether or not the address already has an account. The password is
// chosen on the page the mailed link opens (src/interactions/verify-email.ts;
// src/services/links/account-links.ts says why).
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import type { PendingInteraction } from '../oidc/interactions.ts';
import type { FieldError } from '../middleware/koa-render.ts';
import { field, imageOrigins, rememberReturn, signUpOpen, type InteractionDeps } from './context.ts';

export function renderSignUp(
  deps: InteractionDeps,
  ctx: Context,
  it: PendingInteraction,
  opts: { email?: string; name?: string; errors?: FieldError[]; status?: number } = {},
) {
  deps.render(
    ctx,
    'signup',
    {
      uid: it.uid,
      csrf: deps.csrf.token(ctx),
      app: it.app,
      imageOrigins: imageOrigins(it),
      email: opts.email ?? '',
      name: opts.name ?? '',
      errors: opts.errors,
      returnTo: `/interaction/${it.uid}/signup`,
    },
    opts.status,
  );
}

export function showSignUp(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const it = await deps.interactions.details(ctx, String(ctx.params.uid));
    if (!signUpOpen(deps)) throw notFound('Sign-up');
    renderSignUp(deps, ctx, it, { email: it.loginHint ?? '' });
  };
}

export function submitSignUp(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const it = await deps.interactions.details(ctx, String(ctx.params.uid));
    if (!signUpOpen(deps)) throw notFound('Sign-up');
    const email = field(ctx, 'email').trim();
    const name = field(ctx, 'name').trim();
    const outcome = await deps.accountLinks.signUp({ email, name }, requestMeta(ctx, it.clientId), deps.languageOf(ctx));
    if (!outcome.ok) return renderSignUp(deps, ctx, it, { email, name, errors: [{ field: outcome.field, message: outcome.message }], status: 400 });
    rememberReturn(deps, ctx, it.uid);
    deps.render(ctx, 'check-email', { email, purpose: 'signup', uid: it.uid });
  };
}
