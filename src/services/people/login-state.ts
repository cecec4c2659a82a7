// What a sign-in in progress has proven so far, keyed by the interaction it
// belongs to (by a keyed hash of its id, like the interaction itself): set
// after a correct password, consulted by the second-factor pages, gone with
// the interaction. Stored with the provider's artifacts so that any node can
// continue it.
import type { Db } from '../../db/database.ts';
import { hashArtifactId } from '../secrets/artifact-ids.ts';
import type { Clock } from '../../clock.ts';

const TYPE = 'LoginState';

export interface LoginState {
  accountId: string;
  /** The person enrolled an authenticator during this sign-in. */
  enrolled?: boolean;
  /**
   * Every factor was given; the sign-in completes with this once the
   * person's address is confirmed (REQUIRE_VERIFIED_EMAIL).
   */
  pending?: { accountId: string; amr: string[]; acr: string };
}

export function createLoginStateService(db: Db, ttlSeconds: number, idKey: Buffer, clock: Clock) {
  const key = (uid: string) => hashArtifactId(idKey, uid);
  return {
    async save(uid: string, state: LoginState): Promise<void> {
      const id = key(uid);
      const data = { payload: JSON.stringify(state), accountId: state.accountId, expiresAt: new Date(clock.now() + ttlSeconds * 1000) };
      await db.oidcPayload.upsert({ where: { type_id: { type: TYPE, id } }, create: { type: TYPE, id, ...data }, update: data });
    },
    async get(uid: string): Promise<LoginState | undefined> {
      const row = await db.oidcPayload.findUnique({ where: { type_id: { type: TYPE, id: key(uid) } } });
      if (!row || (row.expiresAt && row.expiresAt.getTime() <= clock.now())) return undefined;
      return JSON.parse(row.payload) as LoginState;
    },
    async clear(uid: string): Promise<void> {
      await db.oidcPayload.deleteMany({ where: { type: TYPE, id: key(uid) } });
    },
  };
}

export type LoginStateService = ReturnType<typeof createLoginStateService>;
