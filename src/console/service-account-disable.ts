// GET  /admin/service-accounts/:id/disable — what disabling it ends, and the button
// POST /admin/service-accounts/:id/disable — disables it: no new token, its stored
//      tokens revoked, its API keys stop (src/services/machines/service-accounts.ts,
//      setDisabled); audited `service_account.updated`
// POST /admin/service-accounts/:id/enable — lets it get tokens again
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backWith, metaOf, type ConsoleDeps } from './context.ts';
import { accountPath } from './service-accounts.ts';

export function confirmDisableAccount(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const account = await deps.admin.serviceAccounts.get(String(ctx.params.id));
    renderConfirmation(deps, ctx, {
      section: 'serviceAccounts',
      heading: msg('console.disableAccount.heading', { name: account.name }),
      losses: [
        msg('console.disableAccount.tokens', { name: account.name, id: account.clientId }),
        msg('console.disableAccount.keys'),
        msg('console.disableAccount.jwts'),
      ],
      button: msg('console.disableAccount.button', { name: account.name }),
      action: `${accountPath(account.clientId)}/disable`,
      back: accountPath(account.clientId),
    });
  };
}

function setDisabled(deps: ConsoleDeps, disabled: boolean) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    await deps.admin.serviceAccounts.setDisabled(actorOf(ctx), id, disabled, undefined, metaOf(ctx));
    backWith(ctx, accountPath(id), disabled ? 'service-account-disabled' : 'service-account-enabled');
  };
}

export const disableAccount = (deps: ConsoleDeps) => setDisabled(deps, true);
export const enableAccount = (deps: ConsoleDeps) => setDisabled(deps, false);
