// When a person's single sign-on sessions end outside the provider's own
// logout (sign out everywhere, an operator ending them, a password reset,
// disabling the person), the apps signed in through them are owed a logout
// token (OpenID Connect Back-Channel Logout, src/oidc/backchannel-logout.ts).
// This module keeps what is owed: it reads which apps those were before the
// rows go, queues one notice per app in the transaction that ends the
// sessions (in whichever process ends them: the CLI too), and hands the
// server's sender the notices that are due. It knows nothing of logout tokens.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/database.ts';

/** One app a session was signed in to: who, which app, and the session's id for that app (`sid`). */
export interface EndedSignIn {
  accountId: string;
  clientId: string;
  sid?: string;
}

/** A logout notice owed, as the sender claimed it. */
export interface OwedLogout extends EndedSignIn {
  id: string;
  /** Failed posts so far. */
  attempts: number;
}

export interface SessionEndings {
  /** The apps with a back-channel logout URI that the person's live sessions (or the one named) are signed in to: read before they are deleted. */
  signInsOf(accountId: string, sessionId?: string): Promise<EndedSignIn[]>;
  /** The write that owes them their notices: part of the transaction that ends the sessions. */
  owe(signIns: EndedSignIn[]): ReturnType<Db['backchannelLogout']['createMany']>;
  /** After the commit: wakes this process's sender, if it has one (the CLI's notices wait for a server's next look). */
  ended(signIns: EndedSignIn[]): void;
  /** The server's sender: woken by ended(). */
  listen(fn: () => void): void;
  /**
   * Due notices, each claimed for `leaseMs` (by moving its next attempt):
   * another node does not take it meanwhile, and a node that dies with it
   * leaves it to be taken again.
   */
  claimDue(limit: number, leaseMs: number): Promise<OwedLogout[]>;
  /** Delivered, or given up: the notice goes. */
  settle(id: string): Promise<void>;
  /** Failed: tried again `afterMs` from now. */
  retry(id: string, attempts: number, afterMs: number): Promise<void>;
}

export function createSessionEndings(db: Db, clock: Clock): SessionEndings {
  const listeners: Array<() => void> = [];
  return {
    async signInsOf(accountId, sessionId) {
      const now = new Date(clock.now());
      const rows = await db.oidcPayload.findMany({
        where: { type: 'Session', accountId, ...(sessionId ? { id: sessionId } : {}) },
        select: { payload: true, expiresAt: true },
      });
      const signIns = rows
        .filter((r) => !r.expiresAt || r.expiresAt > now)
        .flatMap((r) => {
          const session = JSON.parse(r.payload) as { authorizations?: Record<string, { sid?: string }> };
          return Object.entries(session.authorizations ?? {}).map(([clientId, a]) => ({ accountId, clientId, sid: a.sid }));
        });
      if (!signIns.length) return [];
      // Only apps that asked to be told: the others are owed nothing.
      const apps = await db.client.findMany({ where: { id: { in: [...new Set(signIns.map((s) => s.clientId))] } }, select: { id: true, metadata: true } });
      const told = new Set(apps.filter((a) => (JSON.parse(a.metadata) as { backchannel_logout_uri?: string }).backchannel_logout_uri).map((a) => a.id));
      return signIns.filter((s) => told.has(s.clientId));
    },
    owe(signIns) {
      const at = new Date(clock.now());
      return db.backchannelLogout.createMany({
        data: signIns.map((s) => ({ id: randomUUID(), clientId: s.clientId, accountId: s.accountId, sid: s.sid ?? null, nextAttemptAt: at, createdAt: at })),
      });
    },
    ended(signIns) {
      if (!signIns.length) return;
      for (const fn of listeners) fn();
    },
    listen(fn) {
      listeners.push(fn);
    },
    async claimDue(limit, leaseMs) {
      const due = await db.backchannelLogout.findMany({
        where: { nextAttemptAt: { lte: new Date(clock.now()) } },
        orderBy: { nextAttemptAt: 'asc' },
        take: limit,
      });
      const claimed: OwedLogout[] = [];
      for (const row of due) {
        const { count } = await db.backchannelLogout.updateMany({
          where: { id: row.id, nextAttemptAt: row.nextAttemptAt },
          data: { nextAttemptAt: new Date(clock.now() + leaseMs) },
        });
        if (count) claimed.push({ id: row.id, accountId: row.accountId, clientId: row.clientId, sid: row.sid ?? undefined, attempts: row.attempts });
      }
      return claimed;
    },
    async settle(id) {
      await db.backchannelLogout.deleteMany({ where: { id } });
    },
    async retry(id, attempts, afterMs) {
      await db.backchannelLogout.updateMany({ where: { id }, data: { attempts, nextAttemptAt: new Date(clock.now() + afterMs) } });
    },
  };
}
