// GET /account — the signed-in person's own page.
import type { Context } from 'koa';
import { accountOf, type AccountDeps } from './context.ts';

export const NOTICES: Record<string, string> = {
  password: 'Your password was changed.',
  'mfa-removed': 'Two-step verification is off.',
  'app-revoked': 'Access was withdrawn. The app will have to ask again.',
  'api-key-revoked': 'The API key was revoked. It stops working at once.',
};

export function showAccount({ sessions, users, secondFactor, apiKeys, csrf, render }: AccountDeps) {
  return async (ctx: Context) => {
    // Coming back from signing in: drop the unused code from the address bar.
    if (ctx.query.code || ctx.query.error) {
      ctx.status = 303;
      return ctx.redirect('/account');
    }
    const accountId = accountOf(ctx);
    const [user, hasTotp, apps, keys] = await Promise.all([
      users.get(accountId),
      users.hasSecondFactor(accountId),
      sessions.authorizedApps(accountId),
      apiKeys.list({ owner: { userId: accountId } }),
    ]);
    render(ctx, 'account', {
      user,
      hasTotp,
      remainingCodes: hasTotp ? await secondFactor.remainingRecoveryCodes(accountId) : 0,
      apps,
      apiKeys: keys,
      form: ctx.state.form ?? {},
      csrf: csrf.token(ctx),
      notice: NOTICES[String(ctx.query.notice ?? '')],
      error: ctx.state.error,
    });
  };
}
