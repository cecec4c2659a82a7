// POST /interaction/:uid/confirm — the person allows the requested access.
import type { Context } from 'koa';
import type { InteractionDeps } from './context.ts';

export function submitConsent({ interactions, log }: InteractionDeps) {
  return async (ctx: Context) => {
    const it = await interactions.details(ctx, String(ctx.params.uid));
    const returnTo = await interactions.finishConsent(ctx);
    log.info({ event: 'consent_granted', user: it.accountId, client: it.clientId }, 'consent granted');
    ctx.status = 303;
    ctx.redirect(returnTo);
  };
}
