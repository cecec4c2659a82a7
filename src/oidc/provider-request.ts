// The request being served, for code that runs deep inside a request without
// its context: the storage (what a request reads ahead and the token write it
// holds, src/db/read-ahead.ts and held-writes.ts), a session's browser and
// address (src/oidc/adapter.ts), and which client a jwt-bearer assertion alone
// authenticated (src/oidc/grants/assertion-auth.ts).
//
// oidc-provider keeps the Koa context of the request its routes serve in an
// AsyncLocalStorage of its own (`Provider.ctx`). Every request enters that
// same store here, at the top of the app, with its own context: our pages
// save sessions through the provider too. A store of our own beside it
// cost every request on Node 20, where each AsyncLocalStorage in use is
// copied onto every promise made anywhere in the process: about 240 promises
// a refresh, 15–25 µs of each request per store (bench/README.md, "Stop 52").
// The provider's routes enter it again with the same context.
import type { Context, Next } from 'koa';
import Provider from 'oidc-provider';
import providerStore from 'oidc-provider/lib/helpers/als.js';

/** Runs the rest of the request with its context as the provider's current one. */
export function servedRequest() {
  return (ctx: Context, next: Next) => providerStore.run(ctx, next);
}

/** The Koa context of the request being served, if any: an object that lives exactly as long as that request. */
export const providerRequest = (): Context | undefined => Provider.ctx as Context | undefined;
