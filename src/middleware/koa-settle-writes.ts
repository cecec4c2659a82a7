// A token write the request still holds (src/db/held-writes.ts) is made
// before the response leaves. Inside the error handler: a write that fails
// turns the answer into an error, never into tokens that were not stored.
// When the request failed already (it threw, or it answers an error, as the
// provider answers its own), its own error is the answer, and a write that
// fails too is only logged.
import type { Context, Next } from 'koa';
import type { Logger } from '../logger.ts';

export function settleWrites(settle: () => Promise<void>, log: Logger) {
  const logged = (writeErr: unknown) =>
    log.warn({ err: { message: writeErr instanceof Error ? writeErr.message : String(writeErr) } }, 'a held token write failed after its request failed');
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      await settle().catch(logged);
      throw err;
    }
    await (ctx.status >= 400 ? settle().catch(logged) : settle());
  };
}
