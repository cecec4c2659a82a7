// What the account routes are given, and the signed-in guard they share.
import type { Context, Next } from 'koa';
import type { Csrf } from '../middleware/koa-csrf.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import type { Render } from '../middleware/koa-render.ts';
import type { AccountSessions } from '../oidc/account-session.ts';
import type { AccountLinkService } from '../services/links/account-links.ts';
import type { AuditService, RequestMeta } from '../services/admin/audit.ts';
import type { PasskeyService } from '../services/factors/passkeys.ts';
import type { ApiKeyService } from '../services/api-keys/api-keys.ts';
import type { SecondFactorService } from '../services/factors/second-factor.ts';
import type { SignInService } from '../services/people/sign-in.ts';
import type { UserService } from '../services/people/users.ts';

export interface AccountDeps {
  sessions: AccountSessions;
  users: UserService;
  signIn: SignInService;
  secondFactor: SecondFactorService;
  audit: AuditService;
  passkeys: PasskeyService;
  accountLinks: AccountLinkService;
  settings: { registration: 'open' | 'invite' | 'off'; mailEnabled: boolean };
  apiKeys: ApiKeyService;
  csrf: Csrf;
  render: Render;
}

export interface AccountState {
  accountId: string;
}

/**
 * Everything under /account needs a signed-in person whose account is still
 * enabled; pages send others to sign in. A session of a person who was
 * disabled meanwhile is ended here.
 */
export function requireSignedIn({ sessions, users }: AccountDeps) {
  return async (ctx: Context, next: Next) => {
    let session = await sessions.current(ctx);
    if (session && !(await users.findActive(session.accountId))) {
      await sessions.endAllSessions(session.accountId);
      session = undefined;
    }
    if (!session) {
      ctx.status = 303;
      return ctx.redirect(ctx.method === 'GET' ? sessions.loginUrl() : '/account');
    }
    ctx.state.account = { accountId: session.accountId } satisfies AccountState;
    await next();
  };
}

export const accountOf = (ctx: Context) => (ctx.state.account as AccountState).accountId;

export const field = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)[name] ?? '');

export function meta(ctx: Context): RequestMeta & { userId: string } {
  return { ...requestMeta(ctx), userId: accountOf(ctx) };
}

export function backWith(ctx: Context, notice: string): void {
  ctx.status = 303;
  ctx.redirect(`/account?notice=${encodeURIComponent(notice)}`);
}
