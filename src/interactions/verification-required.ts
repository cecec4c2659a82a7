// The sign-in is complete but for the address (REQUIRE_VERIFIED_EMAIL): a
// page saying a link was sent, and
// POST /interaction/:uid/verify/resend — another link (the recipient's mail
// budget applies).
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import type { PendingInteraction } from '../oidc/interactions.ts';
import { InteractionGone } from '../errors.ts';
import { msg, type Message } from '../ui/catalogue.ts';
import { pageFor, type InteractionDeps } from './context.ts';
import type { PublicUser } from '../services/people/users.ts';

export function renderVerificationRequired(deps: InteractionDeps, ctx: Context, it: PendingInteraction, user: PublicUser, notice?: Message) {
  pageFor(ctx, user);
  deps.render(ctx, 'verification-required', { uid: it.uid, csrf: deps.csrf.token(ctx), app: it.app, email: user.email, notice });
}

export function resendVerification(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await deps.interactions.details(ctx, uid);
    const state = await deps.loginState.get(uid);
    if (!state?.pending) throw new InteractionGone('no sign-in waiting for a confirmed address');
    await deps.accountLinks.sendVerification(state.pending.accountId, requestMeta(ctx, it.clientId), deps.languageOf(ctx));
    const user = await deps.users.get(state.pending.accountId);
    renderVerificationRequired(deps, ctx, it, user, msg('verify.resent'));
  };
}
