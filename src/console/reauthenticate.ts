// GET /admin/reauthenticate — why the console asks to sign in again, and the
// way to: a sign-in that must ask for the password and a second factor
// (prompt=login with the two-factor acr_values; a person without a second
// factor sets one up there), coming back to /admin. The sign-in pages do the
// asking, so a passkey works as well as an authenticator app.
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { ACR_MFA } from '../oidc/acr.ts';
import { queryOf, type ConsoleDeps } from './context.ts';

export function showReauthenticate(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const why = queryOf(ctx, 'why') === 'old' ? 'old' : 'factor';
    const minutes = Math.round(deps.settings.reauthSeconds / 60);
    deps.render(ctx, 'console/reauthenticate', {
      reason: why === 'old' ? msg('console.reauth.old', { count: minutes }) : msg('console.reauth.factor'),
      signInUrl: deps.sessions.loginUrl({ prompt: 'login', acr_values: ACR_MFA, back: '/admin' }, ctx),
      accountUrl: deps.accountUrl,
    });
  };
}
