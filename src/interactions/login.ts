// POST /interaction/:uid/login — email and password.
import type { Context } from 'koa';
import { ACR_PASSWORD } from '../oidc/configuration.ts';
import type { InteractionDeps } from './context.ts';

// One message for every failure, so that the page never tells whether an email is registered.
export const LOGIN_FAILED = 'The email or password is not correct.';

export function submitLogin({ interactions, users, csrf, render, log }: InteractionDeps) {
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    const body = ctx.request.body as Record<string, string>;
    const email = (body.email ?? '').trim();
    const result = await users.authenticate(email, body.password ?? '');
    if (!result.ok) {
      log.info({ event: 'login_failed', reason: result.reason, client: it.clientId }, 'login failed');
      return render(ctx, 'login', { uid, csrf: csrf.token(ctx), clientName: it.clientName, email, error: LOGIN_FAILED }, 401);
    }
    log.info({ event: 'login_succeeded', user: result.user.id, client: it.clientId }, 'login succeeded');
    const returnTo = await interactions.finishLogin(ctx, { accountId: result.user.id, amr: ['pwd'], acr: ACR_PASSWORD });
    ctx.status = 303;
    ctx.redirect(returnTo);
  };
}
