// POST /interaction/:uid/code — the second factor: a TOTP or recovery code.
import type { Context } from 'koa';
import { loginResult } from '../oidc/acr.ts';
import { InteractionGone } from '../oidc/interactions.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { lockedMessage, redirectTo, renderSecondFactor, type InteractionDeps } from './context.ts';

export const CODE_FAILED = 'That code is not correct, or was already used. Try the current code from your app.';

export function submitCode(deps: InteractionDeps) {
  const { interactions, signIn, loginState } = deps;
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    const state = await loginState.get(uid);
    if (!state) throw new InteractionGone('no password step');
    const meta = requestMeta(ctx, it.clientId);
    const step = await signIn.code(state.accountId, String((ctx.request.body as Record<string, string>).code ?? ''), meta);
    if (step.kind !== 'ok') {
      return renderSecondFactor(deps, ctx, it, state.accountId, { error: step.kind === 'locked' ? lockedMessage(step.until) : CODE_FAILED, status: 401 });
    }
    await loginState.clear(uid);
    const result = loginResult(state.accountId, step.method);
    await signIn.succeeded(state.accountId, meta, result.amr);
    redirectTo(ctx, await interactions.finishLogin(ctx, result));
  };
}
