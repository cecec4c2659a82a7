// POST /interaction/:uid/confirm — the person allows the requested access.
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { redirectTo, type InteractionDeps } from './context.ts';

export function submitConsent({ interactions, audit }: InteractionDeps) {
  return async (ctx: Context) => {
    const it = await interactions.details(ctx, String(ctx.params.uid));
    const returnTo = await interactions.finishConsent(ctx);
    await audit.record(
      'consent_granted',
      { ...requestMeta(ctx, it.clientId), userId: it.accountId },
      { scopes: it.missingScopes, resources: it.missingResourceScopes },
    );
    redirectTo(ctx, returnTo);
  };
}
