// Passkeys from the account page. Adding or removing one asks who you are
// again — the password, and the current code when there is an authenticator
// app — like every change to how you sign in: an open session alone (a
// shared computer, a stolen cookie) must not be enough to plant a passkey of
// one's own, or to remove the owner's.
//   POST /account/passkeys/start        prove who you are; get the browser's ceremony
//   POST /account/passkeys              the authenticator's answer, and a name
//   POST /account/passkeys/:id/remove   remove one
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import { accountOf, backWith, field, meta, type AccountDeps } from './context.ts';
import { afterReauthentication } from './second-factor.ts';
import { showAccount } from './show.ts';

export function startPasskeyRegistration(deps: AccountDeps) {
  return afterReauthentication(deps, 'no passkey was added.', async (ctx, accountId) => {
    const { options, token } = await deps.passkeys.registrationOptions(accountId);
    const count = await deps.passkeys.count(accountId);
    deps.render(ctx, 'passkey-add', {
      csrf: deps.csrf.token(ctx),
      token,
      options: JSON.stringify(options),
      suggestedName: `Passkey ${count + 1}`,
      passkey: true,
    });
  });
}

export function finishPasskeyRegistration(deps: AccountDeps) {
  const show = showAccount(deps);
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const added = await deps.passkeys.finishRegistration(accountId, field(ctx, 'token'), field(ctx, 'credential'), field(ctx, 'name'));
    if (!added.ok) {
      ctx.state.error = added.message;
      ctx.status = 400;
      return show(ctx);
    }
    await deps.audit.record('passkey_added', meta(ctx), { passkey: added.name });
    backWith(ctx, 'passkey-added');
  };
}

export function removePasskey(deps: AccountDeps) {
  return afterReauthentication(deps, 'the passkey was not removed.', async (ctx, accountId) => {
    const name = await deps.passkeys.remove(accountId, String(ctx.params.id));
    if (!name) throw notFound('That passkey');
    await deps.audit.record('passkey_removed', meta(ctx), { passkey: name });
    backWith(ctx, 'passkey-removed');
  });
}
