// A refresh stores two tokens one after the other (the new refresh token,
// then the access token), and a code exchange the same in the other order:
// on PostgreSQL two round trips where one statement would do. Here a
// request's token write is held back, and goes with the request's next call
// on the store: the second token's write then makes one statement of both,
// and any other call (a read, a destroy) finds the held write already made.
// A write still held when the request has done its work is made before the
// response leaves (`settle`, src/middleware/koa-settle-writes.ts), so nothing
// is answered that is not stored, and a write that fails turns the answer
// into an error.
//
// A refresh token's consumption, which comes right before those two writes,
// is held too, and made in the same statement, which writes the two tokens
// only if it consumed (three round trips become one). The provider is told
// at once that it consumed; when another request consumed it first, the
// second token's write fails instead (`ConsumedMeanwhile`, an invalid_grant
// the provider answers), before anything is answered, and nothing is
// written: of concurrent refreshes with one token, still exactly one gets
// tokens. (A JWT access token is never stored: a refresh that issues one
// makes what it holds before signing it, src/oidc/configuration.ts, so a
// lost race is refused there.) A code's consumption is not held: a code
// exchange may write one token only, and a consumption lost at the end of
// the request could no longer be answered as the provider answers it.
//
// Only the request's own scope holds a write (an object that lives as long as
// the request: the server's is src/oidc/provider-request.ts's ServedRequest);
// outside a request every write is made at once.
import { AppError } from '../errors.ts';
import { requestSlot } from '../request-slot.ts';
import type { ArtifactConsumption, ArtifactStore, ArtifactWrite } from './artifact-store.ts';

/** oidc-provider's models written in pairs at the token endpoint. */
const HELD = new Set(['AccessToken', 'RefreshToken']);
/** The model whose consumption is always followed by both those writes: a rotated refresh token. */
const HELD_CONSUMPTIONS = new Set(['RefreshToken']);

/** A held consumption that found its row consumed (or gone) when it was made: the request's tokens were not written. */
export class ConsumedMeanwhile extends AppError {
  constructor(readonly type: string) {
    super('invalid_grant', `${type} already consumed`);
  }
}

export interface HeldWrites {
  artifacts: ArtifactStore;
  /** Makes the write the current request still holds, if any. */
  settle(): Promise<void>;
}

/** What one request holds: a consumption, a write, or a consumption then a write. */
interface Held {
  consumption?: ArtifactConsumption;
  write?: ArtifactWrite;
}

export function withHeldWrites(artifacts: ArtifactStore, scope: () => object | undefined): HeldWrites {
  const held = requestSlot<Held>('held writes');
  /**
   * The request's write in flight: every call of the request waits for it, so
   * calls made side by side (the provider's Promise.all) still find the held
   * write made, and two writes of one row stay in order. Its failure goes to
   * the call that made it; the others only wait.
   */
  const inflight = requestSlot<Promise<void>>('write in flight');
  const start = (s: object, write: () => Promise<void>): Promise<void> => {
    const before = inflight.get(s);
    const done = before ? before.then(write) : write();
    inflight.set(
      s,
      done.catch(() => undefined),
    );
    return done;
  };
  const consumed = async (c: ArtifactConsumption, made: Promise<boolean>) => {
    if (!(await made)) throw new ConsumedMeanwhile(c.type);
  };
  const settle = async () => {
    const s = scope();
    if (!s) return;
    const h = held.get(s);
    if (!h) return inflight.get(s);
    held.delete(s);
    const { consumption, write } = h;
    return start(s, async () => {
      // A lost consumption writes nothing after it; a won one and its write are one statement.
      if (consumption && write) await consumed(consumption, artifacts.consumeAndUpsert(consumption, [write]));
      else if (consumption) await consumed(consumption, artifacts.consume(consumption.type, consumption.id, consumption.at, consumption.graceSince));
      else if (write) await artifacts.upsert(write.type, write.id, write.columns);
    });
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
      destroy: after(artifacts.destroy),
      revokeByGrantId: after(artifacts.revokeByGrantId),
      insertOnce: after(artifacts.insertOnce),
      upsertTwo: after(artifacts.upsertTwo),
      consumeAndUpsert: after(artifacts.consumeAndUpsert),
      async consume(type, id, at, graceSince) {
        const s = scope();
        if (s && HELD_CONSUMPTIONS.has(type) && !held.has(s)) {
          held.set(s, { consumption: { type, id, at, graceSince } });
          return true;
        }
        await settle();
        return artifacts.consume(type, id, at, graceSince);
      },
      async upsert(type, id, columns) {
        const s = scope();
        const h = s && held.get(s);
        const first = h?.write;
        if (s && first && (first.type !== type || first.id !== id)) {
          held.delete(s);
          const second = { type, id, columns };
          const { consumption } = h;
          return start(s, () =>
            consumption ? consumed(consumption, artifacts.consumeAndUpsert(consumption, [first, second])) : artifacts.upsertTwo(first, second),
          );
        }
        if (s && HELD.has(type)) {
          // The same row again replaces what is held: only its last write would have stayed.
          held.set(s, { ...h, write: { type, id, columns } });
          return;
        }
        await settle();
        return artifacts.upsert(type, id, columns);
      },
    },
  };
}
