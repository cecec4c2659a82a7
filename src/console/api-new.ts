// GET  /admin/apis/new — the form: identifier, scopes, who may hold them, token format, lifetime, claims
// POST /admin/apis — registers it; audited `resource.created`
import type { Context } from 'koa';
import { PERSON_CLAIMS } from '../services/apis/resource-servers.ts';
import { actorOf, backWith, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { apiFormValues, apiInput, type ApiFormValues } from './api-form.ts';
import { apiPath } from './apis.ts';
import { refusal } from './app-form.ts';

// The service's defaults (a JWT access token living an hour).
const EMPTY: ApiFormValues = { identifier: '', scope: '', scope_roles: '', machines_only: false, format: 'jwt', ttl: '3600', claims: [] };

const renderNew = (deps: ConsoleDeps, ctx: Context, values: ApiFormValues, status?: number) =>
  renderConsole(deps, ctx, 'api-new', 'apis', { values, personClaims: PERSON_CLAIMS, returnTo: '/admin/apis/new' }, status);

export function showNewApi(deps: ConsoleDeps) {
  return async (ctx: Context) => renderNew(deps, ctx, EMPTY);
}

export function createApi(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const values = apiFormValues(ctx);
    try {
      const created = await deps.admin.resources.create(actorOf(ctx), apiInput(values), metaOf(ctx));
      backWith(ctx, apiPath(created.identifier), 'api-created');
    } catch (err) {
      const { errors, status } = refusal(err);
      ctx.state.errors = errors;
      renderNew(deps, ctx, values, status);
    }
  };
}
