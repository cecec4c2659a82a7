// POST /account/password — change the password; the current one is required.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
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
    try {
      const changed = await deps.users.changePassword(accountOf(ctx), body.current ?? '', body.password ?? '');
      if (!changed) return fail('Your current password is not correct.');
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_input') return fail(`The new ${err.message}.`);
      throw err;
    }
    await deps.audit.record('password_changed', meta(ctx));
    backWith(ctx, 'password');
  };
}
