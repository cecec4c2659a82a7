// When a person's single sign-on sessions end outside the provider's own
// logout (sign out everywhere, an operator ending them, a password reset,
// disabling the person), the apps signed in through them are told
// (OpenID Connect Back-Channel Logout, src/oidc/backchannel-logout.ts).
// This module only reads which apps those were, before the rows go, and
// passes them on after; it knows nothing of logout tokens.
import type { Db } from '../../db/database.ts';

/** One app a session was signed in to: who, which app, and the session's id for that app (`sid`). */
export interface EndedSignIn {
  accountId: string;
  clientId: string;
  sid?: string;
}

export type SessionEndListener = (ended: EndedSignIn[]) => void;

export interface SessionEndings {
  /** The server's back-channel sender listens; a process without one (the CLI) tells no one. */
  listen(fn: SessionEndListener): void;
  /** The apps the person's live sessions (or the one named) are signed in to: read before they are deleted. */
  signInsOf(accountId: string, sessionId?: string): Promise<EndedSignIn[]>;
  /** The sessions are gone: tell the listener (never throws, never waits). */
  ended(signIns: EndedSignIn[]): void;
}

export function createSessionEndings(db: Db): SessionEndings {
  const listeners: SessionEndListener[] = [];
  return {
    listen(fn) {
      listeners.push(fn);
    },
    async signInsOf(accountId, sessionId) {
      if (!listeners.length) return [];
      const now = new Date();
      const rows = await db.oidcPayload.findMany({
        where: { type: 'Session', accountId, ...(sessionId ? { id: sessionId } : {}) },
        select: { payload: true, expiresAt: true },
      });
      return rows
        .filter((r) => !r.expiresAt || r.expiresAt > now)
        .flatMap((r) => {
          const session = JSON.parse(r.payload) as { authorizations?: Record<string, { sid?: string }> };
          return Object.entries(session.authorizations ?? {}).map(([clientId, a]) => ({ accountId, clientId, sid: a.sid }));
        });
    },
    ended(signIns) {
      if (!signIns.length) return;
      for (const fn of listeners) {
        try {
          fn(signIns);
        } catch {
          // A listener's failure is its own to report; the person's sign-out stands.
        }
      }
    },
  };
}
