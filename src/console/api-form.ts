// What the API forms (new, edit) send, read once for both: the fields the
// resources service checks (src/services/apis/resource-servers.ts), with the
// scope roles written as the CLI's --scope-role values, one a line.
import type { Context } from 'koa';
import { formValues } from '../middleware/koa-body.ts';
import { parseScopeRoles, type ResourceInput, type ResourceServerRecord, type ScopeRoles } from '../services/apis/resource-servers.ts';

export interface ApiFormValues {
  identifier: string;
  scope: string;
  scope_roles: string;
  machines_only: boolean;
  format: string;
  ttl: string;
  claims: string[];
}

const text = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)[name] ?? '');

export function apiFormValues(ctx: Context): ApiFormValues {
  return {
    identifier: text(ctx, 'identifier').trim(),
    scope: text(ctx, 'scope').trim(),
    scope_roles: text(ctx, 'scope_roles'),
    machines_only: text(ctx, 'machines_only') === 'on',
    format: text(ctx, 'format'),
    ttl: text(ctx, 'ttl').trim(),
    claims: formValues(ctx, 'claims'),
  };
}

/** A stored API as its form's values. */
export function apiValuesOf(r: ResourceServerRecord): ApiFormValues {
  return {
    identifier: r.identifier,
    scope: r.scope,
    scope_roles: Object.entries(r.scopeRoles)
      .map(([scope, roles]) => `${scope}=${roles.join(',')}`)
      .join('\n'),
    machines_only: r.machinesOnly,
    format: r.format,
    ttl: String(r.ttl),
    claims: r.claims,
  };
}

const lines = (v: string) =>
  v
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/**
 * The service's input. The form shows every restriction, so a line taken out
 * lifts that restriction (the service keeps scopes an update does not name).
 */
export function apiInput(v: ApiFormValues, current?: ResourceServerRecord): ResourceInput {
  const scopeRoles: ScopeRoles = parseScopeRoles(lines(v.scope_roles));
  const defined = v.scope.split(/\s+/);
  for (const scope of Object.keys(current?.scopeRoles ?? {})) if (!(scope in scopeRoles) && defined.includes(scope)) scopeRoles[scope] = [];
  return {
    identifier: v.identifier,
    scope: v.scope,
    format: v.format,
    ttl: /^\d+$/.test(v.ttl) ? Number(v.ttl) : Number.NaN,
    claims: v.claims.join(' '),
    scopeRoles,
    machinesOnly: v.machines_only,
  };
}
