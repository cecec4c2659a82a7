// POST /account/apps/:grantId/revoke — withdraw an app's access.
// POST /account/sign-out-everywhere — end every session of this person and
// revoke their API keys.
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import { accountOf, backWith, meta, type AccountDeps } from './context.ts';

export function revokeApp({ sessions, audit }: AccountDeps) {
  return async (ctx: Context) => {
    const clientId = await sessions.revokeApp(accountOf(ctx), String(ctx.params.grantId));
    if (!clientId) throw notFound('That authorization');
    await audit.record('consent_revoked', { ...meta(ctx), clientId });
    backWith(ctx, 'app-revoked');
  };
}

export function signOutEverywhere({ sessions, audit, render }: AccountDeps) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const ended = await sessions.signOutEverywhere(accountId);
    await audit.record('signed_out_everywhere', meta(ctx), { sessions: ended.sessions, api_keys_revoked: ended.apiKeys });
    render(ctx, 'logged-out', { everywhere: true, apiKeysRevoked: ended.apiKeys });
  };
}
