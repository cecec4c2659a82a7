// GET  /account/password — the form
// POST /account/password — change the password; the current one is
// required, checked through the sign-in lockout and audit.
import type { Context } from 'koa';
import { lockedMessage } from '../interactions/context.ts';
import { passwordProblem } from '../services/people/password-strength.ts';
import { msg, type Message } from '../ui/catalogue.ts';
import { accountOf, backWith, failWith, meta, renderAccount, type AccountDeps } from './context.ts';

export function showPasswordForm(deps: AccountDeps) {
  return (ctx: Context) => renderAccount(deps, ctx, 'password', 'methods', { returnTo: '/account/password' });
}

export function changePassword(deps: AccountDeps) {
  const show = showPasswordForm(deps);
  return async (ctx: Context) => {
    const body = ctx.request.body as Record<string, string>;
    const fail = (field: string, message: Message, status = 400) => {
      failWith(ctx, [{ field, message }], status);
      return show(ctx);
    };
    if ((body.password ?? '') !== (body.confirm ?? '')) return fail('confirm', msg('changePassword.differ'));
    // Checked first, so that a weak new password does not spend an attempt of the lockout.
    const weak = await passwordProblem(body.password ?? '', await deps.users.get(accountOf(ctx)));
    if (weak) return fail('new-password', weak);
    const proof = await deps.signIn.reauthenticate(accountOf(ctx), { password: body.current ?? '' }, meta(ctx), { passwordOnly: true });
    if (proof.kind === 'locked') return fail('current', lockedMessage(proof.until, deps.clock.now()));
    if (proof.kind !== 'ok') return fail('current', msg('changePassword.wrongCurrent'));
    await deps.users.setPassword(accountOf(ctx), body.password ?? '');
    await deps.audit.record('password_changed', meta(ctx));
    backWith(ctx, 'methods', 'password');
  };
}
