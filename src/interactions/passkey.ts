// POST /interaction/:uid/passkey — signing in with a passkey: instead of the
// password (on the sign-in page), or as the second step after it (on the
// code page, for the person the password named).
import type { Context } from 'koa';
import { passkeyLoginResult } from '../oidc/acr.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { msg } from '../ui/catalogue.ts';
import { completeSignIn, field, renderLogin, renderSecondFactor, type InteractionDeps } from './context.ts';

export const PASSKEY_FAILED = msg('login.passkeyFailed');

export function submitPasskey(deps: InteractionDeps) {
  const { interactions, passkeys, loginState, users, audit } = deps;
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    const meta = requestMeta(ctx, it.clientId);
    const state = await loginState.get(uid);
    if (state && !state.pending) {
      const second = await passkeys.authenticate('second-step', uid, field(ctx, 'credential'), state.accountId);
      if (!second.ok) {
        await audit.record('login_failed', { ...meta, userId: state.accountId }, { reason: 'bad_passkey' });
        return renderSecondFactor(deps, ctx, it, state.accountId, { error: PASSKEY_FAILED, status: 401 });
      }
      await audit.record('passkey_used', { ...meta, userId: state.accountId }, { step: 'second' });
      return completeSignIn(deps, ctx, it, passkeyLoginResult(state.accountId, second.kind, true));
    }
    const first = await passkeys.authenticate('login', uid, field(ctx, 'credential'));
    // A disabled person's passkey opens nothing, and says so no differently.
    const user = first.ok ? await users.findActive(first.userId) : undefined;
    if (!first.ok || !user) {
      await audit.record('login_failed', { ...meta, ...(first.ok ? { userId: first.userId } : {}) }, { reason: first.ok ? 'disabled' : 'bad_passkey' });
      return renderLogin(deps, ctx, it, { error: PASSKEY_FAILED, status: 401 });
    }
    await audit.record('passkey_used', { ...meta, userId: user.id }, { step: 'first' });
    await completeSignIn(deps, ctx, it, passkeyLoginResult(user.id, first.kind, false));
  };
}
