// GET  /account/sessions — where the person is signed in: browser, address, last use
// POST /account/sessions/:id/end — ends one (that browser is signed out)
// POST /account/sign-out-everywhere — ends every session and revokes their API keys
import type { Context } from 'koa';
import { describeUserAgent } from '../ui/user-agent.ts';
import { accountOf, backWith, meta, renderAccount, type AccountDeps, type AccountState } from './context.ts';

export function showSessions(deps: AccountDeps) {
  return async (ctx: Context) => {
    const { accountId, sessionId } = ctx.state.account as AccountState;
    const sessions = (await deps.sessions.listSessions(accountId))
      .map((s) => ({
        ref: s.id,
        current: s.id === sessionId,
        ...(describeUserAgent(s.userAgent) ?? {}),
        address: s.ip,
        signedInAt: s.signedInAt,
        lastUsedAt: s.lastUsedAt,
      }))
      // This browser first, then the most recently used.
      .sort((a, b) => Number(b.current) - Number(a.current) || (b.lastUsedAt?.getTime() ?? 0) - (a.lastUsedAt?.getTime() ?? 0));
    await renderAccount(deps, ctx, 'sessions', 'sessions', { sessions });
  };
}

export function endSession(deps: AccountDeps) {
  return async (ctx: Context) => {
    await deps.sessions.endSession(accountOf(ctx), String(ctx.params.id));
    await deps.audit.record('session_ended', meta(ctx));
    backWith(ctx, 'sessions', 'session-ended');
  };
}

export function signOutEverywhere({ sessions, audit, render }: AccountDeps) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const ended = await sessions.signOutEverywhere(accountId);
    await audit.record('signed_out_everywhere', meta(ctx), { sessions: ended.sessions, api_keys_revoked: ended.apiKeys });
    render(ctx, 'logged-out', { everywhere: true, apiKeysRevoked: ended.apiKeys, returnTo: '/' });
  };
}
