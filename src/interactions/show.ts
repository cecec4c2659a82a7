// GET /interaction/:uid — the page for whatever the provider needs now.
import type { Context } from 'koa';
import type { InteractionDeps } from './context.ts';
import { describeScopes } from './scope-descriptions.ts';

export function showInteraction({ interactions, users, csrf, render }: InteractionDeps) {
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    if (it.prompt === 'login') {
      return render(ctx, 'login', { uid, csrf: csrf.token(ctx), clientName: it.clientName, email: it.loginHint ?? '' });
    }
    if (it.prompt === 'consent' && it.accountId) {
      const user = await users.get(it.accountId);
      return render(ctx, 'consent', {
        uid,
        csrf: csrf.token(ctx),
        clientName: it.clientName,
        email: user.email,
        scopes: describeScopes(it.missingScopes, it.missingResourceScopes),
      });
    }
    return render(ctx, 'error', { message: 'This sign-in step is not supported.', code: it.prompt }, 400);
  };
}
