// GET  /admin/apis/:id — one API: its scopes and who may hold them, machines-only,
//      token format and lifetime, person claims, the apps that may introspect its tokens
// POST /admin/apis/:id — saves those; takes effect on every node within a quarter of a
//      second (the resources service's change tracker); audited `resource.updated` with what changed
import type { Context } from 'koa';
import { PERSON_CLAIMS } from '../services/apis/resource-servers.ts';
import { actorOf, backWith, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { apiFormValues, apiInput, apiValuesOf, type ApiFormValues } from './api-form.ts';
import { apiPath } from './apis.ts';
import { refusal } from './app-form.ts';

export async function renderApi(deps: ConsoleDeps, ctx: Context, identifier: string, values?: ApiFormValues, status?: number) {
  const api = await deps.admin.resources.get(identifier);
  const introspectors = await deps.admin.resources.introspectors(identifier);
  renderConsole(
    deps,
    ctx,
    'api',
    'apis',
    { api, introspectors, values: values ?? apiValuesOf(api), personClaims: PERSON_CLAIMS, self: apiPath(identifier), returnTo: apiPath(identifier) },
    status,
  );
}

export function showApi(deps: ConsoleDeps) {
  return async (ctx: Context) => renderApi(deps, ctx, String(ctx.params.id));
}

export function updateApi(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const identifier = String(ctx.params.id);
    const values = { ...apiFormValues(ctx), identifier };
    try {
      const current = await deps.admin.resources.get(identifier);
      const { identifier: _same, ...changes } = apiInput(values, current);
      await deps.admin.resources.update(actorOf(ctx), identifier, changes, undefined, metaOf(ctx));
      backWith(ctx, apiPath(identifier), 'api-saved');
    } catch (err) {
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      await renderApi(deps, ctx, identifier, values, status);
    }
  };
}
