// Passkeys from the account page. Adding or removing one is confirmed with
// the password and current factor first (src/account/reauth.ts): an open
// session alone must not be enough to plant a passkey of one's own, or to
// remove the owner's.
//   POST /account/passkeys/start        prove who you are; get the browser's ceremony
//   POST /account/passkeys              the authenticator's answer, and a name
//   POST /account/passkeys/:id/remove   remove one
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import { msg } from '../ui/catalogue.ts';
import { accountOf, backWith, failWith, field, meta, type AccountDeps } from './context.ts';
import { afterReauthentication } from './reauth.ts';
import { showSignInMethods } from './sign-in-methods.ts';

export function startPasskeyRegistration(deps: AccountDeps) {
  return afterReauthentication(deps, 'passkey-add', async (ctx, accountId) => {
    const { options, token } = await deps.passkeys.registrationOptions(accountId);
    const count = await deps.passkeys.count(accountId);
    deps.render(ctx, 'passkey-add', {
      csrf: deps.csrf.token(ctx),
      token,
      options: JSON.stringify(options),
      suggestedName: deps.say(ctx, msg('passkeyAdd.suggested', { count: count + 1 })),
      passkey: true,
      returnTo: '/account/sign-in-methods',
    });
  });
}

const REGISTRATION_PROBLEMS: Record<string, string> = {
  expired: 'passkeyAdd.expired',
  no_credential: 'passkeyAdd.noCredential',
  not_checked: 'passkeyAdd.notChecked',
  duplicate: 'passkeyAdd.duplicate',
};

export function finishPasskeyRegistration(deps: AccountDeps) {
  const show = showSignInMethods(deps);
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const fallback = deps.say(ctx, msg('passkeyAdd.suggested', { count: (await deps.passkeys.count(accountId)) + 1 }));
    const added = await deps.passkeys.finishRegistration(accountId, field(ctx, 'token'), field(ctx, 'credential'), field(ctx, 'name'), fallback);
    if (!added.ok) {
      failWith(ctx, [{ message: msg(REGISTRATION_PROBLEMS[added.reason] ?? 'passkeyAdd.notChecked') }]);
      return show(ctx);
    }
    await deps.audit.record('passkey_added', meta(ctx), { passkey: added.name });
    backWith(ctx, 'methods', 'passkey-added');
  };
}

export function removePasskey(deps: AccountDeps) {
  return afterReauthentication(deps, 'passkey-remove', async (ctx, accountId) => {
    const name = await deps.passkeys.remove(accountId, String(ctx.params.id));
    if (!name) throw notFound('That passkey');
    await deps.audit.record('passkey_removed', meta(ctx), { passkey: name });
    backWith(ctx, 'methods', 'passkey-removed');
  });
}
