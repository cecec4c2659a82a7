// POST /account/api-keys — create a key of one's own; it is shown once.
// POST /account/api-keys/:id/revoke — revoke one.
// Creating a key asks who you are again (the password, and the current code
// when there is an authenticator app), as adding a passkey does: a key is a
// credential that outlives the session, so an open session alone (a shared
// computer, a stolen cookie) must not be enough to mint one.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { accountOf, backWith, meta, type AccountDeps } from './context.ts';
import { afterReauthentication } from './second-factor.ts';
import { showAccount } from './show.ts';

export function createApiKey(deps: AccountDeps) {
  const show = showAccount(deps);
  const create = afterReauthentication(deps, 'no key was created.', async (ctx, accountId) => {
    const body = ctx.request.body as Record<string, string>;
    try {
      const { key, record } = await deps.apiKeys.create(
        {
          owner: { userId: accountId },
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
      if (!(err instanceof AppError) || err.code !== 'invalid_input') throw err;
      ctx.state.error = `The key was not created: ${err.message}.`;
      ctx.status = 400;
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
