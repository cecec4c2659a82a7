// The admin console on a listener of its own (ADMIN_CONSOLE_PORT): its origin
// (say http://127.0.0.1:9470) is not the issuer's, so the browser does not
// send it the issuer's single sign-on cookie. The console signs in the way an
// app does — an authorization of the built-in account client, through our
// own sign-in pages on the issuer, coming back to <console>/admin/callback —
// and then keeps, on its own origin, a signed cookie naming the SSO session
// that sign-in made (its uid). Each request reads that session again: ending
// it (signing out, an administrator ending their sessions, disabling them)
// ends the console's sign-in too, and its acr and login time are what the
// console's second-factor and ADMIN_REAUTH rules read, as under /admin.
//
// The code is redeemed here, in-process, from the provider's own store: it
// must be unused and unexpired, for the account client and this callback,
// and its PKCE challenge must be the one made from the state cookie this
// browser got when it was sent to sign in (a code or a callback link from
// elsewhere signs nobody in).
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID } from '../services/people/user-sessions.ts';
import { storedId } from './adapter.ts';

export const CONSOLE_CALLBACK = '/admin/callback';
const STATE_COOKIE = 'lk_console_state';
const SESSION_COOKIE = 'lk_console';

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export interface ConsoleSessionSettings {
  /** The console's origin as the browser reaches it (ADMIN_CONSOLE_URL). */
  url: string;
  idKey: Buffer;
}

export function createConsoleSessions(getProvider: () => Provider, { url, idKey }: ConsoleSessionSettings) {
  const secure = url.startsWith('https://');
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true, path: '/admin', overwrite: true };
  const redirectUri = `${url}${CONSOLE_CALLBACK}`;

  return {
    async current(ctx: Context, _opts: { touch?: boolean } = {}) {
      const uid = ctx.cookies.get(SESSION_COOKIE, { signed: true });
      if (!uid) return undefined;
      const session = await getProvider().Session.findByUid(uid);
      if (!session?.accountId) return undefined;
      return { accountId: session.accountId, id: storedId(idKey, 'Session', session.jti), acr: session.acr, amr: session.amr, loginTs: session.loginTs };
    },

    /** The issuer's authorization endpoint, coming back to the console's callback; the browser gets the state cookie. */
    loginUrl(extra: { prompt?: 'create' | 'login'; acr_values?: string; back?: '/account' | '/admin' }, ctx: Context): string {
      const state = randomBytes(32).toString('base64url');
      ctx.cookies.set(STATE_COOKIE, state, { ...cookie, maxAge: 600_000 });
      const { back: _back, ...params } = extra;
      const target = new URL(`${getProvider().issuer}/auth`);
      target.search = new URLSearchParams({
        client_id: ACCOUNT_CLIENT_ID,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'openid',
        code_challenge: s256(state),
        code_challenge_method: 'S256',
        state,
        ...params,
      }).toString();
      return target.href;
    },

    /** GET /admin/callback: redeems the code and keeps the session it came from; false when it is not one for this browser. */
    async finishSignIn(ctx: Context): Promise<boolean> {
      const state = ctx.cookies.get(STATE_COOKIE, { signed: true });
      ctx.cookies.set(STATE_COOKIE, null, cookie);
      const code = ctx.query.code;
      if (!state || ctx.query.state !== state || typeof code !== 'string' || code.length > 200) return false;
      const provider = getProvider();
      const found = await provider.AuthorizationCode.find(code);
      if (!found?.isValid || found.clientId !== ACCOUNT_CLIENT_ID || found.redirectUri !== redirectUri) return false;
      if (found.codeChallengeMethod !== 'S256' || found.codeChallenge !== s256(state)) return false;
      await found.consume();
      const session = found.sessionUid ? await provider.Session.findByUid(found.sessionUid) : undefined;
      if (!session || session.accountId !== found.accountId) return false;
      ctx.cookies.set(SESSION_COOKIE, found.sessionUid!, cookie);
      return true;
    },
  };
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;
