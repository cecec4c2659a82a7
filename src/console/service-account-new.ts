// GET  /admin/service-accounts/new — the form: name, scopes, grants, and its credential
// POST /admin/service-accounts — creates it. A generated key's private half (or a
//      shared secret) is on the answer page only, to copy or download: it is never
//      stored (the secret only encrypted) and never shown again, as `service-account
//      create` prints it once; audited `service_account.created`
import type { Context } from 'koa';
import { GENERATED_KEY_ALGS } from '../services/machines/service-accounts.ts';
import { actorOf, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { refusal } from './app-form.ts';
import { accessValues, generatedAlg, grantsOf, keyExpiry, keyValues, pastedKeys, type AccessValues, type KeyValues } from './service-account-form.ts';
import { accountPath } from './service-accounts.ts';

const EMPTY = {
  name: '',
  scope: '',
  default_scope: '',
  grants: ['jwt-bearer', 'client_credentials'],
  credential: 'generate',
  alg: 'ES256',
  jwks: '',
  key_expires: '',
};

type Values = AccessValues & KeyValues & { name: string };

const renderNew = (deps: ConsoleDeps, ctx: Context, values: typeof EMPTY | Values, status?: number) =>
  renderConsole(
    deps,
    ctx,
    'service-account-new',
    'serviceAccounts',
    { values, algs: GENERATED_KEY_ALGS.map((a) => ({ value: a, label: a })), returnTo: '/admin/service-accounts/new' },
    status,
  );

export function showNewServiceAccount(deps: ConsoleDeps) {
  return async (ctx: Context) => renderNew(deps, ctx, EMPTY);
}

/** The answer page of a new credential: the private key (or secret) this once, with a download. */
export function renderCredential(
  deps: ConsoleDeps,
  ctx: Context,
  vars: { account: { clientId: string; name: string }; privateJwk?: object; sharedSecret?: string; created: boolean },
) {
  ctx.set('Cache-Control', 'no-store');
  // Shown on one line (it wraps on a phone), downloaded as a readable file.
  const privateKey = vars.privateJwk ? JSON.stringify(vars.privateJwk) : undefined;
  const file = vars.privateJwk ? `${JSON.stringify(vars.privateJwk, null, 2)}\n` : undefined;
  renderConsole(deps, ctx, 'service-account-credential', 'serviceAccounts', {
    ...vars,
    privateKey,
    download: file ? `data:application/json;base64,${Buffer.from(file).toString('base64')}` : undefined,
    filename: `${vars.account.clientId}.private.jwk.json`,
    back: accountPath(vars.account.clientId),
  });
}

export function createServiceAccount(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const body = ctx.request.body as Record<string, unknown>;
    const access = accessValues(ctx);
    const key = keyValues(ctx);
    const values: Values = { name: String(body.name ?? '').trim(), ...access, ...key };
    try {
      const { account, privateJwk, sharedSecret } = await deps.admin.serviceAccounts.create(
        actorOf(ctx),
        {
          name: values.name,
          scope: access.scope,
          defaultScope: access.default_scope || undefined,
          grants: grantsOf(access),
          generateKey: key.credential === 'generate' ? generatedAlg(key) : undefined,
          jwks: key.credential === 'jwks' ? pastedKeys(key) : undefined,
          sharedSecret: key.credential === 'shared-secret',
          keyExpiresAt: key.credential === 'shared-secret' ? undefined : keyExpiry(key, deps.clock.now()),
        },
        metaOf(ctx),
      );
      renderCredential(deps, ctx, { account, privateJwk, sharedSecret, created: true });
    } catch (err) {
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      renderNew(deps, ctx, values, status);
    }
  };
}
