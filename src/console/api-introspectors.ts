// Which apps may introspect an API's tokens (its resource-server clients, RFC 7662):
// POST /admin/apis/:id/introspectors — lets the app named by `client_id` introspect them
// GET  /admin/apis/:id/introspectors/:client/remove — what stopping it means, and the button
// POST /admin/apis/:id/introspectors/:client/remove — stops it: its introspection of this
//      API's tokens answers inactive from the next request
// Both are a change of the app's resource servers (the administration service's
// setIntrospector), audited `client.updated` as `client update --resource-server` is.
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backWith, metaOf, type ConsoleDeps } from './context.ts';
import { renderApi } from './api.ts';
import { apiPath } from './apis.ts';
import { refusal } from './app-form.ts';
import { AppError } from '../errors.ts';

export function addIntrospector(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const identifier = String(ctx.params.id);
    const clientId = String((ctx.request.body as Record<string, unknown>).client_id ?? '').trim();
    await deps.admin.resources.get(identifier); // no such API: its 404, before the app is looked for
    try {
      const changed = await deps.admin.resources.setIntrospector(actorOf(ctx), identifier, clientId, true, metaOf(ctx));
      backWith(ctx, apiPath(identifier), changed ? 'introspector-added' : 'introspector-unchanged');
    } catch (err) {
      // An unknown app is the form's mistake, not a missing page.
      if (err instanceof AppError && err.code === 'not_found') {
        ctx.state.errors = [{ field: 'introspector', message: msg('console.apis.noSuchApp', { id: clientId }) }];
        return renderApi(deps, ctx, identifier, undefined, 400);
      }
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      await renderApi(deps, ctx, identifier, undefined, status);
    }
  };
}

export function confirmRemoveIntrospector(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const api = await deps.admin.resources.get(String(ctx.params.id));
    const app = await deps.admin.clients.get(String(ctx.params.client));
    renderConfirmation(deps, ctx, {
      section: 'apis',
      heading: msg('console.removeIntrospector.heading', { app: app.name, api: api.identifier }),
      losses: [msg('console.removeIntrospector.inactive', { app: app.name, id: app.clientId, api: api.identifier }), msg('console.removeIntrospector.again')],
      button: msg('console.removeIntrospector.button', { app: app.name }),
      action: `${apiPath(api.identifier)}/introspectors/${encodeURIComponent(app.clientId)}/remove`,
      back: apiPath(api.identifier),
    });
  };
}

export function removeIntrospector(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const identifier = String(ctx.params.id);
    try {
      const changed = await deps.admin.resources.setIntrospector(actorOf(ctx), identifier, String(ctx.params.client), false, metaOf(ctx));
      backWith(ctx, apiPath(identifier), changed ? 'introspector-removed' : 'introspector-unchanged');
    } catch (err) {
      // e.g. an app that would be left with nothing to do (no redirect URI, no other API): the service's reason.
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      await renderApi(deps, ctx, identifier, undefined, status);
    }
  };
}
