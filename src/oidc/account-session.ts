// What the account page needs from oidc-provider: who is signed in (the
// single sign-on session itself), the grants a person gave, and ending
// sessions. The account page is a first-party client of ours: signing in to
// it is an ordinary authorization through our login pages.
import { randomBytes, createHash } from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID, type UserSessionService } from '../services/people/user-sessions.ts';
import { SESSION_SEEN, storedId, type SessionSeen } from './adapter.ts';
import { CONSOLE_CALLBACK } from './console-session.ts';

/** A session's last use is written again when the account page is opened this long after it was. */
const TOUCH_AFTER_SECONDS = 300;

export { ACCOUNT_CLIENT_ID };

/** `consoleUrl`: the console's own listener (ADMIN_CONSOLE_PORT), whose sign-in comes back to its callback instead of /admin. */
export function accountClientMetadata(issuer: string, consoleUrl?: string) {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'your Latchkey account',
    // The admin console (src/console/) signs in through this client too, and comes back to /admin
    // (or to its own listener's callback, src/oidc/console-session.ts).
    redirect_uris: [`${issuer}/account`, consoleUrl ? `${consoleUrl}${CONSOLE_CALLBACK}` : `${issuer}/admin`],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid',
  };
}

export function createAccountSessions(getProvider: () => Provider, people: UserSessionService, idKey: Buffer) {
  return {
    /**
     * The signed-in person of this browser's SSO session, if any; `id` is
     * what the session is stored (and listed) under. With `touch`, a session
     * not used for a while is saved again, so that its last use is now.
     */
    async current(
      ctx: Context,
      opts: { touch?: boolean } = {},
    ): Promise<{ accountId: string; id: string; acr?: string; amr?: string[]; loginTs?: number } | undefined> {
      const session = await getProvider().Session.get(ctx as never);
      if (!session.accountId) return undefined;
      const seen = (session as unknown as Record<string, SessionSeen | undefined>)[SESSION_SEEN];
      if (opts.touch && typeof session.exp === 'number' && (!seen || seen.at < Math.floor(Date.now() / 1000) - TOUCH_AFTER_SECONDS)) {
        await session.persist();
      }
      // loginTs: when the person last signed in to this session (seconds; the admin console's freshness rule).
      return { accountId: session.accountId, id: storedId(idKey, 'Session', session.jti), acr: session.acr, amr: session.amr, loginTs: session.loginTs };
    },

    /**
     * Where to send a browser that must sign in to see its account (`prompt=create`: sign up first).
     * The admin console asks for `prompt=login` with the two-factor `acr_values` and comes back to /admin.
     */
    loginUrl(extra: { prompt?: 'create' | 'login'; acr_values?: string; back?: '/account' | '/admin' } = {}, _ctx?: Context): string {
      // The code is never redeemed: the account page reads the session the
      // login creates. PKCE is still required of every client, so we send one.
      const challenge = createHash('sha256').update(randomBytes(32)).digest('base64url');
      const { issuer } = getProvider();
      const { back = '/account', ...params } = extra;
      const url = new URL(`${issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: ACCOUNT_CLIENT_ID,
        redirect_uri: `${issuer}${back}`,
        response_type: 'code',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: randomBytes(16).toString('base64url'),
        ...params,
      }).toString();
      return url.href;
    },

    /** The apps this person authorized, withdrawing one, signing out everywhere: src/services/people/user-sessions.ts. */
    authorizedApps: (accountId: string) => people.authorizedApps(accountId),
    revokeApp: (accountId: string, grantId: string) => people.revokeApp(accountId, grantId),
    listSessions: (accountId: string) => people.listSessions(accountId),
    endSession: (accountId: string, sessionId: string) => people.endSession(accountId, sessionId),
    endAllSessions: (accountId: string) => people.endAllSessions(accountId),
    signOutEverywhere: (accountId: string) => people.signOutEverywhere(accountId),
  };
}

export type AccountSessions = ReturnType<typeof createAccountSessions>;
