// GET  /admin/apps/:id — one app: how it is registered, its secret's state, and the edit form
// POST /admin/apps/:id — saves the name, URIs, scopes, default API and flags; audited `client.updated` with what changed
import type { Context } from 'koa';
import { inputOf, type ClientRecord } from '../services/machines/clients.ts';
import { actorOf, backWith, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { appFormValues, appInput, refusal, type AppFormValues } from './app-form.ts';

export const appPath = (id: string) => `/admin/apps/${encodeURIComponent(id)}`;

function valuesOf(app: ClientRecord): AppFormValues {
  const v = inputOf(app);
  return {
    name: v.name,
    redirect_uris: v.redirectUris.join('\n'),
    scope: v.scope ?? '',
    api_scope: v.apiScope ?? '',
    public: app.public,
    default_resource: v.defaultResource ?? '',
    post_logout_redirect_uris: (v.postLogoutRedirectUris ?? []).join('\n'),
    backchannel_logout_uri: v.backchannelLogoutUri ?? '',
    client_credentials: v.clientCredentials === true,
    device_flow: v.deviceFlow === true,
    require_mfa: v.requireMfa === true,
  };
}

function renderApp(deps: ConsoleDeps, ctx: Context, app: ClientRecord, values: AppFormValues, status?: number) {
  renderConsole(deps, ctx, 'app', 'apps', { app, values, self: appPath(app.clientId), returnTo: appPath(app.clientId) }, status);
}

export function showApp(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const app = await deps.admin.clients.get(String(ctx.params.id));
    renderApp(deps, ctx, app, valuesOf(app));
  };
}

export function updateApp(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    const values = appFormValues(ctx);
    try {
      await deps.admin.clients.update(actorOf(ctx), id, appInput(values), undefined, metaOf(ctx));
      backWith(ctx, appPath(id), 'app-saved');
    } catch (err) {
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      renderApp(deps, ctx, await deps.admin.clients.get(id), { ...values, public: false }, status);
    }
  };
}
