// A refresh stores two tokens one after the other (the new refresh token,
// then the access token), and a code exchange the same in the other order:
// on PostgreSQL two round trips where one statement would do. Here a
// request's token write is held back, and goes with the request's next call
// on the store: the second token's write then makes one statement of both,
// and any other call (a read, a consumption) finds the held write already
// made. A write still held when the request has done its work is made before
// the response leaves (`settle`, src/middleware/koa-settle-writes.ts), so
// nothing is answered that is not stored, and a write that fails turns the
// answer into an error.
//
// Only the request's own scope holds a write (the object the request scope
// middleware makes for it); outside a request every write is made at once.
import type { ArtifactStore, ArtifactWrite } from './artifact-store.ts';

/** oidc-provider's models written in pairs at the token endpoint. */
const HELD = new Set(['AccessToken', 'RefreshToken']);

export interface HeldWrites {
  artifacts: ArtifactStore;
  /** Makes the write the current request still holds, if any. */
  settle(): Promise<void>;
}

export function withHeldWrites(artifacts: ArtifactStore, scope: () => object | undefined): HeldWrites {
  const held = new WeakMap<object, ArtifactWrite>();
  /**
   * The request's write in flight: every call of the request waits for it, so
   * calls made side by side (the provider's Promise.all) still find the held
   * write made, and two writes of one row stay in order. Its failure goes to
   * the call that made it; the others only wait.
   */
  const inflight = new WeakMap<object, Promise<void>>();
  const start = (s: object, write: () => Promise<void>): Promise<void> => {
    const before = inflight.get(s);
    const done = before ? before.then(write) : write();
    inflight.set(
      s,
      done.catch(() => undefined),
    );
    return done;
  };
  const settle = async () => {
    const s = scope();
    if (!s) return;
    const write = held.get(s);
    if (!write) return inflight.get(s);
    held.delete(s);
    return start(s, () => artifacts.upsert(write.type, write.id, write.columns));
  };
  /** `call`, after the write the request holds or has in flight. */
  const after =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await settle();
      return call(...args);
    };
  return {
    settle,
    artifacts: {
      find: after(artifacts.find),
      findAmong: after(artifacts.findAmong),
      findWithRelated: after(artifacts.findWithRelated),
      findByColumn: after(artifacts.findByColumn),
      consume: after(artifacts.consume),
      destroy: after(artifacts.destroy),
      revokeByGrantId: after(artifacts.revokeByGrantId),
      insertOnce: after(artifacts.insertOnce),
      upsertTwo: after(artifacts.upsertTwo),
      async upsert(type, id, columns) {
        const s = scope();
        const first = s && held.get(s);
        if (first && (first.type !== type || first.id !== id)) {
          held.delete(s);
          return start(s, () => artifacts.upsertTwo(first, { type, id, columns }));
        }
        if (s && HELD.has(type)) {
          // The same row again replaces what is held: only its last write would have stayed.
          held.set(s, { type, id, columns });
          return;
        }
        await settle();
        return artifacts.upsert(type, id, columns);
      },
    },
  };
}
