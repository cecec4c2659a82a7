// GET /        — the server's own address: a signed-in person goes to their
//                account; anyone else gets a way to sign in (or sign up).
// GET /signup  — sign up for an account (through the account page's own
//                authorization with prompt=create, like any app would).
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import type { AccountDeps } from './context.ts';

const signUpOpen = (deps: AccountDeps) => deps.settings.registration === 'open' && deps.settings.mailEnabled;

export function showLanding(deps: AccountDeps) {
  return async (ctx: Context) => {
    const session = await deps.sessions.current(ctx);
    if (session && (await deps.users.findActive(session.accountId))) {
      ctx.status = 303;
      return ctx.redirect('/account');
    }
    deps.render(ctx, 'landing', { signUp: signUpOpen(deps) });
  };
}

export function startSignUp(deps: AccountDeps) {
  return async (ctx: Context) => {
    if (!signUpOpen(deps)) throw notFound('Sign-up');
    ctx.status = 303;
    ctx.redirect(deps.sessions.loginUrl({ prompt: 'create' }));
  };
}
