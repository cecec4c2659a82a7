// POST /account/api-keys — create a key of one's own; it is shown once.
// POST /account/api-keys/:id/revoke — revoke one.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { accountOf, backWith, meta, type AccountDeps } from './context.ts';
import { showAccount } from './show.ts';

export function createApiKey(deps: AccountDeps) {
  const show = showAccount(deps);
  return async (ctx: Context) => {
    const body = ctx.request.body as Record<string, string>;
    try {
      const { key, record } = await deps.apiKeys.create(
        {
          owner: { userId: accountOf(ctx), self: true },
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
      ctx.state.form = body;
      ctx.status = 400;
      return show(ctx);
    }
  };
}

export function revokeApiKey({ apiKeys }: AccountDeps) {
  return async (ctx: Context) => {
    await apiKeys.revoke(String(ctx.params.id), meta(ctx), { userId: accountOf(ctx) });
    backWith(ctx, 'api-key-revoked');
  };
}
