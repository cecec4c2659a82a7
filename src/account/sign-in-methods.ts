// GET /account/sign-in-methods — password, passkeys, authenticator app and
// recovery codes; each change goes through the "confirm it is you" page.
import type { Context } from 'koa';
import { accountOf, renderAccount, type AccountDeps } from './context.ts';

export function showSignInMethods(deps: AccountDeps) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const [hasTotp, passkeys] = await Promise.all([deps.users.hasTotp(accountId), deps.passkeys.list(accountId)]);
    await renderAccount(deps, ctx, 'sign-in-methods', 'methods', {
      hasTotp,
      passkeys,
      remainingCodes: hasTotp ? await deps.secondFactor.remainingRecoveryCodes(accountId) : 0,
    });
  };
}
