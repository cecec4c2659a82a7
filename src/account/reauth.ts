// Every change to how a person signs in asks who they are again — the
// password, and the current factor when there is one — through the same
// lockout, rate limit and audit as signing in: an open session alone (a
// shared computer, a stolen cookie) must not be enough to add, replace or
// remove a factor or to replace the recovery codes.
//   GET /account/confirm?action=…[&id=…]  the page that asks, for one action
// The page posts to the action's own route, which checks with
// afterReauthentication() and shows the page again when the check fails.
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import { lockedMessage } from '../interactions/context.ts';
import type { FieldError } from '../middleware/koa-render.ts';
import { msg, type Message } from '../ui/catalogue.ts';
import { accountOf, failWith, field, meta, renderAccount, type AccountDeps } from './context.ts';

export type ReauthAction = 'passkey-add' | 'passkey-remove' | 'totp-setup' | 'totp-replace' | 'totp-remove' | 'recovery-codes';

const ACTIONS: Record<ReauthAction, { label: string; lead?: string; postTo: (id: string) => string }> = {
  'passkey-add': { label: 'reauth.passkeyAdd', postTo: () => '/account/passkeys/start' },
  'passkey-remove': { label: 'reauth.passkeyRemove', postTo: (id) => `/account/passkeys/${encodeURIComponent(id)}/remove` },
  'totp-setup': { label: 'reauth.totpSetup', postTo: () => '/account/totp/start' },
  'totp-replace': { label: 'reauth.totpReplace', postTo: () => '/account/totp/start' },
  'totp-remove': { label: 'reauth.totpRemove', postTo: () => '/account/totp/remove' },
  'recovery-codes': { label: 'reauth.recoveryCodes', lead: 'reauth.recoveryCodesLead', postTo: () => '/account/recovery-codes' },
};

const isAction = (v: unknown): v is ReauthAction => typeof v === 'string' && v in ACTIONS;

/** The "confirm it is you" page for `action` (a passkey's id for passkey-remove). */
export async function renderReauth(deps: AccountDeps, ctx: Context, action: ReauthAction, id = '') {
  const accountId = accountOf(ctx);
  let label: Message = msg(ACTIONS[action].label);
  if (action === 'passkey-remove') {
    const key = (await deps.passkeys.list(accountId)).find((k) => k.id === id);
    if (!key) throw notFound('That passkey');
    label = msg(ACTIONS[action].label, { name: key.name });
  }
  const lead = ACTIONS[action].lead;
  await renderAccount(deps, ctx, 'confirm', 'methods', {
    action,
    actionLabel: label,
    actionLead: lead ? msg(lead) : undefined,
    postTo: ACTIONS[action].postTo(id),
    hasTotp: await deps.users.hasTotp(accountId),
    returnTo: `/account/confirm?${new URLSearchParams({ action, ...(id ? { id } : {}) })}`,
  });
}

export function showReauth(deps: AccountDeps) {
  return async (ctx: Context) => {
    const action = ctx.query.action;
    if (!isAction(action)) throw notFound('That page');
    await renderReauth(deps, ctx, action, typeof ctx.query.id === 'string' ? ctx.query.id : '');
  };
}

/**
 * Runs `then` once the person has proven who they are again; otherwise
 * shows the confirmation page of `action` again, saying what was wrong (the
 * form's `action` field tells set-up from replacement, which post to the same route).
 */
export function afterReauthentication(
  deps: AccountDeps,
  action: ReauthAction | ((ctx: Context) => ReauthAction),
  then: (ctx: Context, accountId: string) => Promise<void>,
) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const proof = await deps.signIn.reauthenticate(accountId, { password: field(ctx, 'password'), code: field(ctx, 'code') }, meta(ctx));
    if (proof.kind !== 'ok') {
      const errors: FieldError[] =
        proof.kind === 'locked'
          ? [{ field: 'reauth-password', message: lockedMessage(proof.until, deps.clock.now()) }]
          : proof.reason === 'code'
            ? [{ field: 'reauth-code', message: msg('reauth.wrongCode') }]
            : [{ field: 'reauth-password', message: msg('reauth.wrongPassword') }];
      failWith(ctx, errors, proof.kind === 'locked' ? 429 : 400);
      const named = typeof action === 'function' ? action(ctx) : action;
      const posted = field(ctx, 'action');
      return renderReauth(deps, ctx, named === 'totp-setup' && posted === 'totp-replace' ? 'totp-replace' : named, String(ctx.params.id ?? ''));
    }
    await then(ctx, accountId);
  };
}
