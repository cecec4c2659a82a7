// The request being served, for code that runs deep inside a request without
// its context: the storage (what a request reads ahead and the token write it
// holds, src/db/read-ahead.ts and held-writes.ts), a session's browser and
// address (src/oidc/adapter.ts), and which client a jwt-bearer assertion alone
// authenticated (src/oidc/grants/assertion-auth.ts).
//
// oidc-provider keeps the Koa context of the request its routes serve in an
// AsyncLocalStorage of its own (`Provider.ctx`). Every request enters that
// same store here, at the top of the app, with a small object of its own (a
// `ServedRequest`); the provider's routes enter it again with the Koa context,
// from which `currentRequest` finds the same object. A store of our own beside
// the provider's cost every request on Node 20, where each AsyncLocalStorage
// in use is copied onto every promise made anywhere in the process: about
// 14–25 µs a request per store (bench/README.md, "Stop 52").
//
// Why not the Koa context itself: whatever lives on after a request and was
// made in it (a password thread, a database connection, a timer) keeps the
// store of that request for as long as it lives. The small object holds an
// address and a browser; a page's context holds its form, passwords included.
import type { Context, Next } from 'koa';
import Provider from 'oidc-provider';
import providerStore from 'oidc-provider/lib/helpers/als.js';
import { requestSlot } from '../request-slot.ts';

/** One request, for as long as it is served: its address and browser, and the values kept for it (src/request-slot.ts). */
export class ServedRequest {
  constructor(
    readonly ip: string | undefined,
    readonly userAgent: string | undefined,
  ) {}
}

const servedOf = requestSlot<ServedRequest>('served request');

/** Runs the rest of the request in the provider's store, as a ServedRequest. */
export function servedRequest() {
  // The store must be the one `Provider.ctx` reads (a second copy of oidc-provider would make another): checked once here.
  const probe = new ServedRequest(undefined, undefined);
  if (providerStore.run(probe, () => Provider.ctx as unknown) !== probe) {
    throw new Error("oidc-provider's lib/helpers/als.js is not the store Provider.ctx reads: src/oidc/provider-request.ts needs updating");
  }
  return (ctx: Context, next: Next) => {
    const served = new ServedRequest(ctx.ip || undefined, ctx.get('user-agent') || undefined);
    servedOf.set(ctx, served);
    return providerStore.run(served, next);
  };
}

/** The request being served, if any: the same object inside the provider's routes and out. */
export function currentRequest(): ServedRequest | undefined {
  const store = Provider.ctx as object | undefined;
  if (store === undefined || store instanceof ServedRequest) return store;
  // Inside the provider's routes the store is the request's Koa context.
  return servedOf.get(store);
}
