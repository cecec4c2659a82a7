// A token write the request still holds (src/db/held-writes.ts) is made
// before the response leaves. Inside the error handler: a write that fails
// turns the answer into an error, never into tokens that were not stored.
import type { Context, Next } from 'koa';

export function settleWrites(settle: () => Promise<void>) {
  return async (_ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      await settle();
    }
  };
}
