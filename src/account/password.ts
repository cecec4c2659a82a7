// POST /account/password — change the password; the current one is
// required, checked through the sign-in lockout and audit.
import type { Context } from 'koa';
import { lockedMessage } from '../interactions/context.ts';
import { passwordProblem } from '../services/people/password-strength.ts';
import { accountOf, backWith, meta, type AccountDeps } from './context.ts';
import { showAccount } from './show.ts';

export function changePassword(deps: AccountDeps) {
  const show = showAccount(deps);
  return async (ctx: Context) => {
    const body = ctx.request.body as Record<string, string>;
    const fail = (message: string) => {
      ctx.state.error = message;
      ctx.status = 400;
      return show(ctx);
    };
    if ((body.password ?? '') !== (body.confirm ?? '')) return fail('The new passwords do not match.');
    // Checked first, so that a weak new password does not spend an attempt of the lockout.
    const weak = await passwordProblem(body.password ?? '', await deps.users.get(accountOf(ctx)));
    if (weak) return fail(weak.replace(/^The password/, 'The new password'));
    const proof = await deps.signIn.reauthenticate(accountOf(ctx), { password: body.current ?? '' }, meta(ctx), { passwordOnly: true });
    if (proof.kind === 'locked') return fail(lockedMessage(proof.until));
    if (proof.kind !== 'ok') return fail('Your current password is not correct.');
    await deps.users.setPassword(accountOf(ctx), body.password ?? '');
    await deps.audit.record('password_changed', meta(ctx));
    backWith(ctx, 'password');
  };
}
