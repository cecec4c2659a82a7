// GET  /account/apps — the apps the person allowed, and what each may do
// POST /account/apps/:grantId/revoke — withdraw an app's access
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import { describeScopes } from '../interactions/scope-descriptions.ts';
import { accountOf, backWith, meta, renderAccount, type AccountDeps } from './context.ts';

export function showApps(deps: AccountDeps) {
  return async (ctx: Context) => {
    const apps = await deps.sessions.authorizedApps(accountOf(ctx));
    await renderAccount(deps, ctx, 'apps', 'apps', {
      apps: apps.map((a) => ({
        ...a,
        scopes: a.granted.scopes.length || Object.keys(a.granted.resources).length ? describeScopes(a.granted.scopes, a.granted.resources) : [],
      })),
    });
  };
}

export function revokeApp({ sessions, audit }: AccountDeps) {
  return async (ctx: Context) => {
    const clientId = await sessions.revokeApp(accountOf(ctx), String(ctx.params.grantId));
    if (!clientId) throw notFound('That authorization');
    await audit.record('consent_revoked', { ...meta(ctx), clientId });
    backWith(ctx, 'apps', 'app-revoked');
  };
}
