// POST /interaction/:uid/code — the second factor: a TOTP or recovery code.
import type { Context } from 'koa';
import { loginResult } from '../oidc/acr.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { msg } from '../ui/catalogue.ts';
import { completeSignIn, lockedMessage, renderSecondFactor, type InteractionDeps } from './context.ts';
import { InteractionGone } from '../errors.ts';

export const CODE_FAILED = msg('code.failed');

export function submitCode(deps: InteractionDeps) {
  const { interactions, signIn, loginState } = deps;
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    const state = await loginState.get(uid);
    if (!state || state.pending) throw new InteractionGone('no password step');
    const meta = requestMeta(ctx, it.clientId);
    const step = await signIn.code(state.accountId, String((ctx.request.body as Record<string, string>).code ?? ''), meta);
    if (step.kind !== 'ok') {
      return renderSecondFactor(deps, ctx, it, state.accountId, {
        error: step.kind === 'locked' ? lockedMessage(step.until, deps.clock.now()) : CODE_FAILED,
        status: 401,
      });
    }
    await completeSignIn(deps, ctx, it, loginResult(state.accountId, step.method));
  };
}
