// GET  /admin/service-accounts/:id — one account: its state, credential, keys, scopes and grants
// POST /admin/service-accounts/:id — saves its scopes, default scope and grants (the
//      service's updateAccess, by the rules of create); tokens already issued keep
//      theirs until they expire; audited `service_account.updated` with what changed
import type { Context } from 'koa';
import { GENERATED_KEY_ALGS } from '../services/machines/service-accounts.ts';
import { actorOf, backWith, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { refusal } from './app-form.ts';
import { accessValues, accessValuesOf, grantsOf, type AccessValues } from './service-account-form.ts';
import { accountPath } from './service-accounts.ts';

const NEW_KEY = { credential: 'generate', alg: 'ES256', jwks: '', key_expires: '' };

export async function renderAccount(deps: ConsoleDeps, ctx: Context, id: string, values?: { access?: AccessValues; key?: object }, status?: number) {
  const account = await deps.admin.serviceAccounts.get(id);
  const now = deps.clock.now();
  renderConsole(
    deps,
    ctx,
    'service-account',
    'serviceAccounts',
    {
      account,
      keys: account.keys.map((k) => ({ ...k, expired: k.expiresAt !== null && k.expiresAt.getTime() <= now })),
      values: values?.access ?? accessValuesOf(account),
      keyValues: values?.key ?? NEW_KEY,
      algs: GENERATED_KEY_ALGS.map((a) => ({ value: a, label: a })),
      self: accountPath(id),
      returnTo: accountPath(id),
    },
    status,
  );
}

export function showServiceAccount(deps: ConsoleDeps) {
  return async (ctx: Context) => renderAccount(deps, ctx, String(ctx.params.id));
}

export function updateServiceAccount(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    const access = accessValues(ctx);
    try {
      const current = await deps.admin.serviceAccounts.get(id);
      await deps.admin.serviceAccounts.updateAccess(
        actorOf(ctx),
        id,
        {
          scope: access.scope,
          defaultScope: access.default_scope || undefined,
          grants: grantsOf(access),
          // Kept as it is: the form does not change a partner's self-signed tokens.
          selfSignedMaxLifetime: current.metadata.self_signed_tokens?.max_lifetime,
        },
        metaOf(ctx),
      );
      backWith(ctx, accountPath(id), 'service-account-saved');
    } catch (err) {
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      await renderAccount(deps, ctx, id, { access }, status);
    }
  };
}
