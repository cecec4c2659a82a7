// A person's single sign-on sessions and the apps they authorized (grants),
// as stored by oidc-provider in oidc_payloads: listed, ended, revoked. One set
// of rules for the account page and the admin API/CLI. Every node reads the
// same rows, so an ended session or a revoked grant is gone everywhere at once.
//
// A session's id here is the key it is stored under (an HMAC of the cookie
// value, src/oidc/adapter.ts): it names the session without being able to
// resume it.
import type { Db } from '../../db/database.ts';
import { notFound } from '../../errors.ts';
import { ACCOUNT_CLIENT_ID } from '../machines/built-in-clients.ts';
import { revokePersonKeys } from '../api-keys/api-keys.ts';
import type { Clock } from '../../clock.ts';
import type { SessionEndings } from './session-endings.ts';

export { ACCOUNT_CLIENT_ID };

export interface UserSession {
  id: string;
  signedInAt: Date | null;
  expiresAt: Date | null;
  amr: string[];
  acr: string | null;
  /** Apps signed in to through this session. */
  clientIds: string[];
  /** The browser and address of the request that last used it, and when. */
  lastUsedAt: Date | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuthorizedApp {
  grantId: string;
  clientId: string;
  clientName: string;
  scopes: string[];
  /** The same, by kind: OpenID scopes, and API scopes by API (for pages that describe them). */
  granted: { scopes: string[]; resources: Record<string, string[]> };
  grantedAt: Date | undefined;
}

const live = (row: { expiresAt: Date | null }, now: Date) => !row.expiresAt || row.expiresAt > now;

/**
 * A person's rows in a stable order, sorted here rather than by the query: SQLite keeps no statistics, and asked to
 * order by id it reads every session (or grant) of every person through the primary key instead of the person's own
 * through their index (test/db/payload-indexes.test.ts).
 */
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createUserSessionService(db: Db, clock: Clock, endings?: SessionEndings) {
  return {
    async listSessions(userId: string): Promise<UserSession[]> {
      const now = new Date(clock.now());
      const rows = await db.oidcPayload.findMany({ where: { type: 'Session', accountId: userId } });
      return rows
        .filter((r) => live(r, now))
        .sort(byId)
        .map((r) => {
          const s = JSON.parse(r.payload) as {
            loginTs?: number;
            amr?: string[];
            acr?: string;
            authorizations?: Record<string, unknown>;
            lk_seen?: { ip?: string; ua?: string; at?: number };
          };
          return {
            id: r.id,
            signedInAt: typeof s.loginTs === 'number' ? new Date(s.loginTs * 1000) : null,
            expiresAt: r.expiresAt,
            amr: Array.isArray(s.amr) ? s.amr : [],
            acr: s.acr ?? null,
            clientIds: Object.keys(s.authorizations ?? {}).filter((c) => c !== ACCOUNT_CLIENT_ID),
            lastUsedAt: typeof s.lk_seen?.at === 'number' ? new Date(s.lk_seen.at * 1000) : null,
            ip: s.lk_seen?.ip ?? null,
            userAgent: s.lk_seen?.ua ?? null,
          };
        });
    },

    /** Ends one session (the person is signed out on that device). */
    async endSession(userId: string, sessionId: string): Promise<void> {
      const signIns = (await endings?.signInsOf(userId, sessionId)) ?? [];
      const [{ count }] = await db.$transaction([
        db.oidcPayload.deleteMany({ where: { type: 'Session', id: sessionId, accountId: userId } }),
        ...(endings ? [endings.owe(signIns)] : []),
      ]);
      if (count === 0) throw notFound(`session ${sessionId} of user ${userId}`);
      endings?.ended(signIns);
    },

    /** Ends every single sign-on session of the person, on every device. */
    async endAllSessions(userId: string): Promise<number> {
      const signIns = (await endings?.signInsOf(userId)) ?? [];
      const [{ count }] = await db.$transaction([
        db.oidcPayload.deleteMany({ where: { type: 'Session', accountId: userId } }),
        ...(endings ? [endings.owe(signIns)] : []),
      ]);
      endings?.ended(signIns);
      return count;
    },

    /**
     * The person's own "sign out everywhere": every session ends and every
     * API key of theirs is revoked, in one transaction. A key is as good as
     * a session that never ends; someone who fears their session was taken
     * must not be left with a key made through it.
     */
    async signOutEverywhere(userId: string): Promise<{ sessions: number; apiKeys: number }> {
      const signIns = (await endings?.signInsOf(userId)) ?? [];
      const [sessions, keys] = await db.$transaction([
        db.oidcPayload.deleteMany({ where: { type: 'Session', accountId: userId } }),
        revokePersonKeys(db, userId, new Date(clock.now())),
        ...(endings ? [endings.owe(signIns)] : []),
      ]);
      endings?.ended(signIns);
      return { sessions: sessions.count, apiKeys: keys.count };
    },

    async authorizedApps(userId: string): Promise<AuthorizedApp[]> {
      const now = new Date(clock.now());
      const rows = (await db.oidcPayload.findMany({ where: { type: 'Grant', accountId: userId } })).filter((r) => live(r, now)).sort(byId);
      const grants = rows
        .map((row) => ({
          row,
          grant: JSON.parse(row.payload) as { clientId: string; iat?: number; openid?: { scope?: string }; resources?: Record<string, string> },
        }))
        .filter(({ grant }) => grant.clientId !== ACCOUNT_CLIENT_ID);
      const ids = [...new Set(grants.map((g) => g.grant.clientId))];
      const names = new Map((await db.client.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((c) => [c.id, c.name]));
      return grants.map(({ row, grant }) => ({
        grantId: row.id,
        clientId: grant.clientId,
        clientName: names.get(grant.clientId) ?? grant.clientId,
        scopes: [
          ...(grant.openid?.scope?.split(' ') ?? []),
          ...Object.entries(grant.resources ?? {}).flatMap(([r, s]) => s.split(' ').map((x) => `${x} (${r})`)),
        ].filter((s) => s && s !== 'openid'),
        granted: {
          scopes: (grant.openid?.scope?.split(' ') ?? []).filter((s) => s && s !== 'openid'),
          resources: Object.fromEntries(Object.entries(grant.resources ?? {}).map(([r, s]) => [r, s.split(' ').filter(Boolean)])),
        },
        grantedAt: grant.iat ? new Date(grant.iat * 1000) : undefined,
      }));
    },

    /**
     * Withdraws consent: the grant and every code and token issued under it.
     * Returns the app's client id; undefined when the grant is not this person's.
     */
    async revokeApp(userId: string, grantId: string): Promise<string | undefined> {
      const row = await db.oidcPayload.findUnique({ where: { type_id: { type: 'Grant', id: grantId } } });
      if (!row || row.accountId !== userId) return undefined;
      const { clientId } = JSON.parse(row.payload) as { clientId: string };
      await db.$transaction([db.oidcPayload.deleteMany({ where: { grantId } }), db.oidcPayload.deleteMany({ where: { type: 'Grant', id: grantId } })]);
      return clientId;
    },
  };
}

export type UserSessionService = ReturnType<typeof createUserSessionService>;
