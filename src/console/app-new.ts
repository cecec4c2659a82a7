// GET  /admin/apps/new — the form: name, redirect URIs, scopes, public or confidential
// POST /admin/apps — registers it; a confidential app's secret is on the answer
//      page only (never stored in clear, never shown again); audited `client.created`
import type { Context } from 'koa';
import { DEFAULT_CLIENT_SCOPE } from '../services/machines/clients.ts';
import { actorOf, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { appFormValues, appInput, refusal, type AppFormValues } from './app-form.ts';

const EMPTY: AppFormValues = {
  name: '',
  redirect_uris: '',
  scope: DEFAULT_CLIENT_SCOPE,
  api_scope: '',
  public: false,
  default_resource: '',
  post_logout_redirect_uris: '',
  backchannel_logout_uri: '',
  client_credentials: false,
  device_flow: false,
  require_mfa: false,
};

export function showNewApp(deps: ConsoleDeps) {
  return async (ctx: Context) => renderConsole(deps, ctx, 'app-new', 'apps', { values: EMPTY });
}

export function createApp(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const values = appFormValues(ctx);
    try {
      const { client, clientSecret } = await deps.admin.clients.create(actorOf(ctx), { ...appInput(values), public: values.public }, metaOf(ctx));
      ctx.set('Cache-Control', 'no-store');
      renderConsole(deps, ctx, 'app-secret', 'apps', { app: client, secret: clientSecret, created: true, returnTo: '/admin/apps' });
    } catch (err) {
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      renderConsole(deps, ctx, 'app-new', 'apps', { values, returnTo: '/admin/apps/new' }, status);
    }
  };
}
