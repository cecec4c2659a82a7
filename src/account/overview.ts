// GET /account — the overview: one line per section, each a link to its page.
import type { Context } from 'koa';
import { accountOf, keysSectionShown, renderAccount, type AccountDeps } from './context.ts';

export function showOverview(deps: AccountDeps) {
  return async (ctx: Context) => {
    // Coming back from signing in: drop the unused code from the address bar.
    if (ctx.query.code || ctx.query.error) {
      ctx.status = 303;
      return ctx.redirect('/account');
    }
    const accountId = accountOf(ctx);
    const [hasTotp, passkeyCount, apps, sessions, keys, keysSection] = await Promise.all([
      deps.users.hasTotp(accountId),
      deps.passkeys.count(accountId),
      deps.sessions.authorizedApps(accountId),
      deps.sessions.listSessions(accountId),
      deps.apiKeys.countLive({ userId: accountId }),
      keysSectionShown(deps, accountId),
    ]);
    await renderAccount(deps, ctx, 'overview', 'overview', {
      hasTotp,
      passkeyCount,
      appCount: apps.length,
      sessionCount: sessions.length,
      keyCount: keys,
      nav: { apiKeys: keysSection.shown },
    });
  };
}
