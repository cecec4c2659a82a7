// Two-step verification from the account page. Every change to it asks who
// you are again — the password, and the current factor when there is one —
// through the same lockout, rate limit and audit as signing in: an open
// session alone (a shared computer, a stolen cookie) must not be enough to
// add, replace or remove a factor or to replace the recovery codes.
//   POST /account/totp/start    prove who you are, get a new secret and its QR code
//   POST /account/totp          confirm it with a code from the app
//   POST /account/totp/remove   turn it off
//   POST /account/recovery-codes  new recovery codes (the old ones stop working)
import type { Context } from 'koa';
import { lockedMessage } from '../interactions/context.ts';
import { accountOf, backWith, field, meta, type AccountDeps } from './context.ts';
import { showAccount } from './show.ts';

const WRONG_CODE = 'That code is not correct. Check the time on your device and try the current code.';

/**
 * Runs `action` once the person has proven who they are again; otherwise
 * shows the account page with what was wrong.
 */
export function afterReauthentication(deps: AccountDeps, refused: string, action: (ctx: Context, accountId: string) => Promise<void>) {
  const show = showAccount(deps);
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const proof = await deps.signIn.reauthenticate(accountId, { password: field(ctx, 'password'), code: field(ctx, 'code') }, meta(ctx));
    if (proof.kind !== 'ok') {
      ctx.state.error =
        proof.kind === 'locked'
          ? lockedMessage(proof.until)
          : `${proof.reason === 'code' ? 'That code is not correct, or was already used' : 'Your password is not correct'}; ${refused}`;
      ctx.status = proof.kind === 'locked' ? 429 : 400;
      return show(ctx);
    }
    await action(ctx, accountId);
  };
}

export function startTotpSetup(deps: AccountDeps) {
  return afterReauthentication(deps, 'nothing was changed.', async (ctx, accountId) => {
    const enrollment = await deps.secondFactor.beginEnrollment(accountId);
    deps.render(ctx, 'enroll', { enrollment, csrf: deps.csrf.token(ctx), action: '/account/totp' });
  });
}

export function confirmTotpSetup({ secondFactor, audit, csrf, render }: AccountDeps) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const token = field(ctx, 'enrollment');
    const codes = await secondFactor.confirmEnrollment(accountId, token, field(ctx, 'code'));
    if (!codes) {
      const enrollment = await secondFactor.pendingEnrollment(accountId, token);
      return render(ctx, 'enroll', { enrollment, csrf: csrf.token(ctx), action: '/account/totp', error: WRONG_CODE }, 400);
    }
    await audit.record('mfa_enrolled', meta(ctx));
    render(ctx, 'recovery-codes', { codes });
  };
}

export function removeTotp(deps: AccountDeps) {
  return afterReauthentication(deps, 'two-step verification is still on.', async (ctx, accountId) => {
    await deps.secondFactor.remove(accountId);
    await deps.audit.record('mfa_removed', meta(ctx));
    backWith(ctx, 'mfa-removed');
  });
}

export function regenerateRecoveryCodes(deps: AccountDeps) {
  return afterReauthentication(deps, 'your recovery codes were not changed.', async (ctx, accountId) => {
    const codes = await deps.secondFactor.regenerateRecoveryCodes(accountId);
    await deps.audit.record('recovery_codes_regenerated', meta(ctx));
    deps.render(ctx, 'recovery-codes', { codes });
  });
}
