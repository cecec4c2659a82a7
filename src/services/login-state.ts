// What a sign-in in progress has proven so far, keyed by the interaction it
// belongs to: set after a correct password, consulted by the second-factor
// pages, gone with the interaction. Stored with the provider's artifacts so
// that any node can continue it.
import type { Db } from '../db/database.ts';

const TYPE = 'LoginState';

export interface LoginState {
  accountId: string;
  /** The person enrolled an authenticator during this sign-in. */
  enrolled?: boolean;
}

export function createLoginStateService(db: Db, ttlSeconds: number) {
  return {
    async save(uid: string, state: LoginState): Promise<void> {
      const data = { payload: JSON.stringify(state), accountId: state.accountId, expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
      await db.oidcPayload.upsert({ where: { type_id: { type: TYPE, id: uid } }, create: { type: TYPE, id: uid, ...data }, update: data });
    },
    async get(uid: string): Promise<LoginState | undefined> {
      const row = await db.oidcPayload.findUnique({ where: { type_id: { type: TYPE, id: uid } } });
      if (!row || (row.expiresAt && row.expiresAt <= new Date())) return undefined;
      return JSON.parse(row.payload) as LoginState;
    },
    async clear(uid: string): Promise<void> {
      await db.oidcPayload.deleteMany({ where: { type: TYPE, id: uid } });
    },
  };
}

export type LoginStateService = ReturnType<typeof createLoginStateService>;
