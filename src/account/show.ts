// GET /account — the signed-in person's own page.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { describeDuration } from '../config/durations.ts';
import { accountOf, type AccountDeps } from './context.ts';

export const NOTICES: Record<string, string> = {
  password: 'Your password was changed.',
  'mfa-removed': 'Two-step verification is off.',
  'app-revoked': 'Access was withdrawn. The app will have to ask again.',
  'passkey-added': 'Your passkey was added. Next time, sign in with it.',
  'passkey-removed': 'The passkey was removed.',
  'verification-sent': 'We sent a link to your address. Open it to confirm.',
  'api-key-revoked': 'The API key was revoked. It stops working at once.',
};

export function showAccount({ sessions, users, secondFactor, passkeys, settings, apiKeys, csrf, render }: AccountDeps) {
  return async (ctx: Context) => {
    // Coming back from signing in: drop the unused code from the address bar.
    if (ctx.query.code || ctx.query.error) {
      ctx.status = 303;
      return ctx.redirect('/account');
    }
    const accountId = accountOf(ctx);
    // The keys a page at a time (`?keys=` is the position after the last one shown).
    const cursor = typeof ctx.query.keys === 'string' && ctx.query.keys ? ctx.query.keys : undefined;
    const keyPage = (at: string | undefined) => apiKeys.page({ owner: { userId: accountId }, cursor: at });
    const [user, hasTotp, apps, personPasskeys, personApiKeys] = await Promise.all([
      users.get(accountId),
      users.hasTotp(accountId),
      sessions.authorizedApps(accountId),
      passkeys.list(accountId),
      keyPage(cursor).catch((err: unknown) => {
        if (!(err instanceof AppError)) throw err;
        ctx.state.error ??= 'That link to a later page of your API keys is not valid; here are the first ones.';
        return keyPage(undefined);
      }),
    ]);
    render(ctx, 'account', {
      user,
      hasTotp,
      passkeys: personPasskeys,
      canConfirmEmail: !user.emailVerified && settings.mailEnabled,
      remainingCodes: hasTotp ? await secondFactor.remainingRecoveryCodes(accountId) : 0,
      apps,
      apiKeys: personApiKeys.items,
      apiKeysNext: personApiKeys.nextCursor,
      apiKeysLater: cursor !== undefined,
      apiKeyMaxTtl: describeDuration(apiKeys.personMaxTtl),
      form: ctx.state.form ?? {},
      csrf: csrf.token(ctx),
      notice: NOTICES[String(ctx.query.notice ?? '')],
      error: ctx.state.error,
    });
  };
}
