// A service account's keys (rollover: add the new one, expire or remove the old):
// POST /admin/service-accounts/:id/keys — a key pair generated here (its private half on
//      the answer page only, to download) or pasted public keys; audited `service_account.key_added`
// GET  /admin/service-accounts/:id/keys/:kid/expire — when it should stop working, and the button
// POST /admin/service-accounts/:id/keys/:kid/expire — assertions it signs are refused from then on;
//      audited `service_account.key_expired`
// GET  /admin/service-accounts/:id/keys/:kid/remove — what removing it ends, and the button
// POST /admin/service-accounts/:id/keys/:kid/remove — removes it; audited `service_account.key_removed`
import type { Context } from 'koa';
import { invalidInput, notFound } from '../errors.ts';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backWith, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { refusal } from './app-form.ts';
import { renderAccount } from './service-account.ts';
import { renderCredential } from './service-account-new.ts';
import { generatedAlg, keyExpiry, keyValues, pastedKeys } from './service-account-form.ts';
import { accountPath } from './service-accounts.ts';

const keyPath = (id: string, kid: string) => `${accountPath(id)}/keys/${encodeURIComponent(kid)}`;

/** The account and one of its keys (404 naming both when it has no such key). */
async function keyOf(deps: ConsoleDeps, ctx: Context) {
  const account = await deps.admin.serviceAccounts.get(String(ctx.params.id));
  const key = account.keys.find((k) => k.kid === String(ctx.params.kid));
  if (!key) throw notFound(`key '${String(ctx.params.kid)}' of service account ${account.clientId}`);
  return { account, key };
}

export function addKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    const key = keyValues(ctx);
    try {
      const expiresAt = keyExpiry(key, deps.clock.now());
      if (key.credential === 'jwks') {
        await deps.admin.serviceAccounts.addKeys(actorOf(ctx), id, pastedKeys(key), expiresAt, metaOf(ctx));
        return backWith(ctx, accountPath(id), 'key-added');
      }
      const { privateJwk } = await deps.admin.serviceAccounts.addGeneratedKey(actorOf(ctx), id, generatedAlg(key), expiresAt, metaOf(ctx));
      renderCredential(deps, ctx, { account: await deps.admin.serviceAccounts.get(id), privateJwk, created: false });
    } catch (err) {
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      await renderAccount(deps, ctx, id, { key }, status);
    }
  };
}

/** When an expired key stops working, in seconds from now: at once (a leaked key), or after a rollover's overlap. */
const WHEN = [0, 3600, 86_400, 7 * 86_400] as const;

export function confirmExpireKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const { account, key } = await keyOf(deps, ctx);
    const say = (s: number) =>
      s === 0
        ? msg('console.expireKey.now')
        : s < 86_400
          ? msg('console.expireKey.hours', { count: s / 3600 })
          : msg('console.expireKey.days', { count: s / 86_400 });
    renderConsole(deps, ctx, 'service-account-key-expire', 'serviceAccounts', {
      account,
      key,
      when: WHEN.map((s) => ({ value: String(s), label: say(s), checked: s === 0 })),
      action: `${keyPath(account.clientId, key.kid)}/expire`,
      back: accountPath(account.clientId),
      returnTo: accountPath(account.clientId),
    });
  };
}

export function expireKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const { account, key } = await keyOf(deps, ctx);
    const after = Number((ctx.request.body as Record<string, unknown>).when ?? 0);
    if (!(WHEN as readonly number[]).includes(after)) throw invalidInput('when must be one of the offered choices');
    await deps.admin.serviceAccounts.expireKey(actorOf(ctx), account.clientId, key.kid, new Date(deps.clock.now() + after * 1000), metaOf(ctx));
    backWith(ctx, accountPath(account.clientId), 'key-expired');
  };
}

export function confirmRemoveKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const { account, key } = await keyOf(deps, ctx);
    const others = account.keys.length - 1;
    renderConfirmation(deps, ctx, {
      section: 'serviceAccounts',
      heading: msg('console.removeKey.heading', { kid: key.kid, name: account.name }),
      losses: [
        msg('console.removeKey.assertions', { kid: key.kid, name: account.name }),
        others ? msg('console.removeKey.others', { count: others }) : msg('console.removeKey.last', { name: account.name }),
        msg('console.removeKey.final'),
      ],
      button: msg('console.removeKey.button', { kid: key.kid }),
      action: `${keyPath(account.clientId, key.kid)}/remove`,
      back: accountPath(account.clientId),
    });
  };
}

export function removeKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    await deps.admin.serviceAccounts.removeKey(actorOf(ctx), id, String(ctx.params.kid), metaOf(ctx));
    backWith(ctx, accountPath(id), 'key-removed');
  };
}
