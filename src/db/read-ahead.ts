// A request that uses a refresh token, an access token (userinfo) or an
// authorization code reads that row, then the grant it names, then its person:
// three round trips to PostgreSQL, one after another, each tens of
// microseconds of the node's CPU (bench/README.md, stop 33). Here the first
// read fetches all three in one statement, and the other two are answered
// from what it read, once, in the same request only.
//
// What is read ahead is kept in the request's own scope (an object that
// lives as long as the request: the server's is src/oidc/provider-request.ts's
// ServedRequest), so no other request can see it; outside a request (the
// admin CLI, timers) every read goes to the database
// as before. It serves only the reads the request makes before its first
// write through this store: a code exchange consumes its code before it
// reads the person, and that read goes to the database after the consume,
// as it always did (a person disabled in between is not issued tokens).
// The flows that use it (refresh, userinfo, code exchange) write nothing
// through Prisma between the read and its use.
import type { AccountStore, StoredAccount } from './account-store.ts';
import type { ArtifactStore, StoredArtifact } from './artifact-store.ts';
import { requestSlot } from '../request-slot.ts';

/** oidc-provider's models whose use reads their grant and person next. */
const LEADS = new Set(['RefreshToken', 'AccessToken', 'AuthorizationCode']);
const GRANT = 'Grant';
const miss = Symbol('not read ahead');
/** Per request: `Grant <id>` or `account <id>` → the row read ahead (undefined: read, and not there). */
type Ahead = Map<string, StoredArtifact | StoredAccount | undefined>;

export function withReadAhead(
  artifacts: ArtifactStore,
  accounts: AccountStore,
  scope: () => object | undefined,
): { artifacts: ArtifactStore; accounts: AccountStore } {
  const ahead = requestSlot<Ahead>('read ahead');
  /** The row read ahead under `key` in this request, once; `miss` when there is none. */
  const take = (key: string): StoredArtifact | StoredAccount | undefined | typeof miss => {
    const s = scope();
    const rows = s && ahead.get(s);
    if (!rows?.has(key)) return miss;
    const row = rows.get(key);
    rows.delete(key);
    return row;
  };
  /** A write in the request: nothing read before it is served after it. */
  const written = () => {
    const s = scope();
    if (s) ahead.delete(s);
  };
  const afterWriting =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      written();
      return call(...args);
    };
  return {
    accounts: {
      async find(id) {
        const row = take(`account ${id}`);
        return row === miss ? accounts.find(id) : (row as StoredAccount | undefined);
      },
    },
    artifacts: {
      ...artifacts,
      async find(type, id) {
        const s = scope();
        if (!s) return artifacts.find(type, id);
        if (type === GRANT) {
          const row = take(`${GRANT} ${id}`);
          return row === miss ? artifacts.find(type, id) : (row as StoredArtifact | undefined);
        }
        if (!LEADS.has(type)) return artifacts.find(type, id);
        const { row, grant, account } = await artifacts.findWithRelated(type, id);
        let rows = ahead.get(s);
        if (!rows) {
          rows = new Map();
          ahead.set(s, rows);
        }
        if (grant) rows.set(`${GRANT} ${grant.id}`, grant.row);
        if (account) rows.set(`account ${account.id}`, account.row);
        return row;
      },
      upsert: afterWriting(artifacts.upsert),
      upsertTwo: afterWriting(artifacts.upsertTwo),
      destroy: afterWriting(artifacts.destroy),
      consume: afterWriting(artifacts.consume),
      consumeAndUpsert: afterWriting(artifacts.consumeAndUpsert),
      revokeByGrantId: afterWriting(artifacts.revokeByGrantId),
      insertOnce: afterWriting(artifacts.insertOnce),
    },
  };
}
