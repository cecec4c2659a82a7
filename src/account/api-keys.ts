// POST /account/api-keys — create a key of one's own; it is shown once.
// POST /account/api-keys/:id/revoke — revoke one.
// Creating a key asks who you are again (the password, and the current code
// when there is an authenticator app), as adding a passkey does: a key is a
// credential that outlives the session, so an open session alone (a shared
// computer, a stolen cookie) must not be enough to mint one. Each person
// makes at most RATE_LIMIT_API_KEYS keys per window (refused attempts do not
// count) and has at most API_KEY_MAX_PER_OWNER live ones.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import type { PersonBudget } from '../middleware/koa-rate-limit.ts';
import { describeDuration } from '../config/durations.ts';
import { accountOf, backWith, meta, type AccountDeps } from './context.ts';
import { afterReauthentication } from './second-factor.ts';
import { showAccount } from './show.ts';

export function createApiKey(deps: AccountDeps, budget: (personId: string) => Promise<PersonBudget>) {
  const show = showAccount(deps);
  const create = afterReauthentication(deps, 'no key was created.', async (ctx, accountId) => {
    const body = ctx.request.body as Record<string, string>;
    const spent = await budget(accountId);
    if (!spent.ok) {
      ctx.state.error =
        `The key was not created: you made ${spent.limit.points} keys in ${describeDuration(spent.limit.seconds)}, ` +
        `the most allowed. Try again in ${describeDuration(Math.ceil(spent.retryAfter / 60) * 60)}.`;
      ctx.status = 429;
      ctx.set('Retry-After', String(spent.retryAfter));
      return show(ctx);
    }
    try {
      const { key, record } = await deps.apiKeys.create(
        {
          owner: { userId: accountId, self: true },
          name: body.name ?? '',
          description: body.description || undefined,
          scope: body.scope ?? '',
          resource: body.resource || undefined,
          expires: body.expires || undefined,
          allowIps: (body.allowed_ips ?? '').split(/[\s,]+/).filter(Boolean),
        },
        meta(ctx),
      );
      ctx.set('Cache-Control', 'no-store');
      deps.render(ctx, 'api-key-created', { key, record });
    } catch (err) {
      await spent.refund();
      if (!(err instanceof AppError) || (err.code !== 'invalid_input' && err.code !== 'conflict')) throw err;
      ctx.state.error = `The key was not created: ${err.message}.`;
      ctx.status = err.status;
      return show(ctx);
    }
  });
  return async (ctx: Context) => {
    // Whatever the outcome, the form comes back as it was typed (never the password or code).
    const { password: _p, code: _c, csrf: _t, ...form } = ctx.request.body as Record<string, string>;
    ctx.state.form = form;
    await create(ctx);
  };
}

export function revokeApiKey({ apiKeys }: AccountDeps) {
  return async (ctx: Context) => {
    await apiKeys.revoke(String(ctx.params.id), meta(ctx), { userId: accountOf(ctx) });
    backWith(ctx, 'api-key-revoked');
  };
}
