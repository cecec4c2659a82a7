// POST /interaction/:uid/login — email and password.
import type { Context } from 'koa';
import { loginResult } from '../oidc/acr.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { msg } from '../ui/catalogue.ts';
import { completeSignIn, lockedMessage, redirectTo, renderLogin, type InteractionDeps } from './context.ts';

// One message for every failure, so that the page never tells whether an email is registered.
export const LOGIN_FAILED = msg('login.failed');

export function submitLogin(deps: InteractionDeps) {
  const { interactions, signIn, loginState } = deps;
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    const body = ctx.request.body as Record<string, string>;
    const email = (body.email ?? '').trim();
    const meta = requestMeta(ctx, it.clientId);
    const step = await signIn.password(email, body.password ?? '', meta);
    if (step.kind !== 'ok') {
      const error = step.kind === 'locked' ? lockedMessage(step.until, deps.clock.now()) : LOGIN_FAILED;
      return renderLogin(deps, ctx, it, { email, error, status: 401 });
    }
    if (step.hasTotp || it.secondFactorRequired) {
      await loginState.save(uid, { accountId: step.userId });
      return redirectTo(ctx, `/interaction/${uid}`);
    }
    await completeSignIn(deps, ctx, it, loginResult(step.userId));
  };
}
