// What the account page needs from oidc-provider: who is signed in (the
// single sign-on session itself), the grants a person gave, and ending
// sessions. The account page is a first-party client of ours: signing in to
// it is an ordinary authorization through our login pages.
import { randomBytes, createHash } from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Db } from '../db/database.ts';

export const ACCOUNT_CLIENT_ID = 'latchkey-account';

export function accountClientMetadata(issuer: string) {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'your Latchkey account',
    redirect_uris: [`${issuer}/account`],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid',
  };
}

export interface AuthorizedApp {
  grantId: string;
  clientId: string;
  clientName: string;
  scopes: string[];
  grantedAt: Date | undefined;
}

export function createAccountSessions(getProvider: () => Provider, db: Db) {
  return {
    /** The signed-in person of this browser's SSO session, if any. */
    async current(ctx: Context): Promise<{ accountId: string; acr?: string; amr?: string[] } | undefined> {
      const session = await getProvider().Session.get(ctx as never);
      if (!session.accountId) return undefined;
      return { accountId: session.accountId, acr: session.acr, amr: session.amr };
    },

    /** Where to send a browser that must sign in to see its account (`prompt=create`: sign up first). */
    loginUrl(extra: { prompt?: 'create' } = {}): string {
      // The code is never redeemed: the account page reads the session the
      // login creates. PKCE is still required of every client, so we send one.
      const challenge = createHash('sha256').update(randomBytes(32)).digest('base64url');
      const { issuer } = getProvider();
      const url = new URL(`${issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: ACCOUNT_CLIENT_ID,
        redirect_uri: `${issuer}/account`,
        response_type: 'code',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: randomBytes(16).toString('base64url'),
        ...extra,
      }).toString();
      return url.href;
    },

    async authorizedApps(accountId: string): Promise<AuthorizedApp[]> {
      const rows = await db.oidcPayload.findMany({ where: { type: 'Grant', accountId }, orderBy: { id: 'asc' } });
      const provider = getProvider();
      const apps: AuthorizedApp[] = [];
      for (const row of rows) {
        if (row.expiresAt && row.expiresAt <= new Date()) continue;
        const grant = JSON.parse(row.payload) as { clientId: string; iat?: number; openid?: { scope?: string }; resources?: Record<string, string> };
        if (grant.clientId === ACCOUNT_CLIENT_ID) continue;
        const client = await provider.Client.find(grant.clientId);
        const scopes = [
          ...(grant.openid?.scope?.split(' ') ?? []),
          ...Object.entries(grant.resources ?? {}).flatMap(([r, s]) => s.split(' ').map((x) => `${x} (${r})`)),
        ].filter((s) => s && s !== 'openid');
        apps.push({
          grantId: row.id,
          clientId: grant.clientId,
          clientName: client?.clientName ?? grant.clientId,
          scopes,
          grantedAt: grant.iat ? new Date(grant.iat * 1000) : undefined,
        });
      }
      return apps;
    },

    /** Withdraws consent: the grant and every code and token issued under it. */
    async revokeApp(accountId: string, grantId: string): Promise<string | undefined> {
      const provider = getProvider();
      const grant = await provider.Grant.find(grantId);
      if (!grant || grant.accountId !== accountId) return undefined;
      await Promise.all([
        provider.AccessToken.revokeByGrantId(grantId),
        provider.RefreshToken.revokeByGrantId(grantId),
        provider.AuthorizationCode.revokeByGrantId(grantId),
      ]);
      await grant.destroy();
      return grant.clientId;
    },

    /** Ends every single sign-on session of the person, on every device. */
    async endAllSessions(accountId: string): Promise<number> {
      const { count } = await db.oidcPayload.deleteMany({ where: { type: 'Session', accountId } });
      return count;
    },
  };
}

export type AccountSessions = ReturnType<typeof createAccountSessions>;
