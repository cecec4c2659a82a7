// POST /interaction/:uid/enroll — setting up an authenticator during sign-in
// (the client requires a second factor and the person has none yet), then
// POST /interaction/:uid/continue once the recovery codes were shown.
import type { Context } from 'koa';
import { loginResult } from '../oidc/acr.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { msg } from '../ui/catalogue.ts';
import { completeSignIn, renderSecondFactor, type InteractionDeps } from './context.ts';
import { InteractionGone } from '../errors.ts';

export function submitEnrollment(deps: InteractionDeps) {
  const { interactions, secondFactor, loginState, audit, csrf, render } = deps;
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    const state = await loginState.get(uid);
    if (!state || state.pending) throw new InteractionGone('no password step');
    const body = ctx.request.body as Record<string, string>;
    const enrollmentToken = String(body.enrollment ?? '');
    const codes = await secondFactor.confirmEnrollment(state.accountId, enrollmentToken, String(body.code ?? ''));
    if (!codes) return renderSecondFactor(deps, ctx, it, state.accountId, { error: msg('enroll.failed'), status: 401, enrollmentToken });
    await loginState.save(uid, { ...state, enrolled: true });
    await audit.record('mfa_enrolled', { ...requestMeta(ctx, it.clientId), userId: state.accountId });
    render(ctx, 'recovery-codes', { codes, csrf: csrf.token(ctx), continueAction: `/interaction/${uid}/continue` });
  };
}

export function continueAfterEnrollment(deps: InteractionDeps) {
  const { interactions, loginState } = deps;
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    const state = await loginState.get(uid);
    if (!state?.enrolled) throw new InteractionGone('no enrolment');
    await completeSignIn(deps, ctx, it, loginResult(state.accountId, 'otp'));
  };
}
