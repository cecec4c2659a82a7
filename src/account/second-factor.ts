// Two-step verification from the account page (each change is confirmed
// with the password and current factor first: src/account/reauth.ts).
//   POST /account/totp/start      get a new secret and its QR code
//   POST /account/totp            confirm it with a code from the app
//   POST /account/totp/remove     turn it off
//   POST /account/recovery-codes  new recovery codes (the old ones stop working)
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { accountOf, backWith, field, meta, type AccountDeps } from './context.ts';
import { afterReauthentication } from './reauth.ts';

export function startTotpSetup(deps: AccountDeps) {
  return afterReauthentication(deps, 'totp-setup', async (ctx, accountId) => {
    const enrollment = await deps.secondFactor.beginEnrollment(accountId);
    deps.render(ctx, 'enroll', { enrollment, csrf: deps.csrf.token(ctx), action: '/account/totp', returnTo: '/account/sign-in-methods' });
  });
}

export function confirmTotpSetup({ secondFactor, audit, csrf, render }: AccountDeps) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const token = field(ctx, 'enrollment');
    const codes = await secondFactor.confirmEnrollment(accountId, token, field(ctx, 'code'));
    if (!codes) {
      const enrollment = await secondFactor.pendingEnrollment(accountId, token);
      return render(
        ctx,
        'enroll',
        {
          enrollment,
          csrf: csrf.token(ctx),
          action: '/account/totp',
          errors: [{ field: 'code', message: msg('enroll.failed') }],
          returnTo: '/account/sign-in-methods',
        },
        400,
      );
    }
    await audit.record('mfa_enrolled', meta(ctx));
    render(ctx, 'recovery-codes', { codes, returnTo: '/account/sign-in-methods' });
  };
}

export function removeTotp(deps: AccountDeps) {
  return afterReauthentication(deps, 'totp-remove', async (ctx, accountId) => {
    await deps.secondFactor.remove(accountId);
    await deps.audit.record('mfa_removed', meta(ctx));
    backWith(ctx, 'methods', 'mfa-removed');
  });
}

export function regenerateRecoveryCodes(deps: AccountDeps) {
  return afterReauthentication(deps, 'recovery-codes', async (ctx, accountId) => {
    const codes = await deps.secondFactor.regenerateRecoveryCodes(accountId);
    await deps.audit.record('recovery_codes_regenerated', meta(ctx));
    deps.render(ctx, 'recovery-codes', { codes, returnTo: '/account/sign-in-methods' });
  });
}
