// Two-step verification from the account page: set up (GET shows the QR
// code, POST confirms it), remove, and new recovery codes. Removing the
// factor or replacing the codes asks for the password again.
import type { Context } from 'koa';
import { accountOf, backWith, meta, type AccountDeps } from './context.ts';
import { showAccount } from './show.ts';

const WRONG_CODE = 'That code is not correct. Check the time on your device and try the current code.';

export function startTotpSetup({ secondFactor, csrf, render }: AccountDeps) {
  return async (ctx: Context) => {
    const enrollment = await secondFactor.beginEnrollment(accountOf(ctx));
    render(ctx, 'enroll', { enrollment, csrf: csrf.token(ctx), action: '/account/totp' });
  };
}

export function confirmTotpSetup({ secondFactor, audit, csrf, render }: AccountDeps) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const codes = await secondFactor.confirmEnrollment(accountId, String((ctx.request.body as Record<string, string>).code ?? ''));
    if (!codes) {
      const enrollment = await secondFactor.pendingEnrollment(accountId);
      return render(ctx, 'enroll', { enrollment, csrf: csrf.token(ctx), action: '/account/totp', error: WRONG_CODE }, 400);
    }
    await audit.record('mfa_enrolled', meta(ctx));
    render(ctx, 'recovery-codes', { codes });
  };
}

/**
 * The sensitive actions below ask for the password again: a session left
 * open on a shared computer must not be enough to remove the second factor.
 */
function withPassword(deps: AccountDeps, refused: string, action: (ctx: Context, accountId: string) => Promise<void>) {
  const show = showAccount(deps);
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    if (!(await deps.users.checkPassword(accountId, (ctx.request.body as Record<string, string>).password ?? ''))) {
      ctx.state.error = refused;
      ctx.status = 400;
      return show(ctx);
    }
    await action(ctx, accountId);
  };
}

export function removeTotp(deps: AccountDeps) {
  return withPassword(deps, 'Your password is not correct; two-step verification is still on.', async (ctx, accountId) => {
    await deps.secondFactor.remove(accountId);
    await deps.audit.record('mfa_removed', meta(ctx));
    backWith(ctx, 'mfa-removed');
  });
}

export function regenerateRecoveryCodes(deps: AccountDeps) {
  return withPassword(deps, 'Your password is not correct; your recovery codes were not changed.', async (ctx, accountId) => {
    const codes = await deps.secondFactor.regenerateRecoveryCodes(accountId);
    await deps.audit.record('recovery_codes_regenerated', meta(ctx));
    deps.render(ctx, 'recovery-codes', { codes });
  });
}
