// POST /interaction/:uid/abort — deny or cancel: the app receives access_denied.
import type { Context } from 'koa';
import type { InteractionDeps } from './context.ts';

export function abortInteraction({ interactions }: InteractionDeps) {
  return async (ctx: Context) => {
    await interactions.details(ctx, String(ctx.params.uid));
    const returnTo = await interactions.abort(ctx, 'access_denied', 'the person denied the request');
    ctx.status = 303;
    ctx.redirect(returnTo);
  };
}
