// POST /interaction/:uid/login — email and password.
import type { Context } from 'koa';
import { loginResult } from '../oidc/acr.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { lockedMessage, redirectTo, type InteractionDeps } from './context.ts';

// One message for every failure, so that the page never tells whether an email is registered.
export const LOGIN_FAILED = 'The email or password is not correct.';

export function submitLogin({ interactions, signIn, loginState, csrf, render }: InteractionDeps) {
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    const body = ctx.request.body as Record<string, string>;
    const email = (body.email ?? '').trim();
    const meta = requestMeta(ctx, it.clientId);
    const step = await signIn.password(email, body.password ?? '', meta);
    if (step.kind !== 'ok') {
      const error = step.kind === 'locked' ? lockedMessage(step.until) : LOGIN_FAILED;
      return render(ctx, 'login', { uid, csrf: csrf.token(ctx), clientName: it.clientName, email, error }, 401);
    }
    if (step.hasTotp || it.secondFactorRequired) {
      await loginState.save(uid, { accountId: step.userId });
      return redirectTo(ctx, `/interaction/${uid}`);
    }
    const result = loginResult(step.userId);
    await signIn.succeeded(step.userId, meta, result.amr);
    redirectTo(ctx, await interactions.finishLogin(ctx, result));
  };
}
