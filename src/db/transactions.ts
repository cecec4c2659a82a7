// One transaction around a change made of several services' writes (an
// administrative change and its audit record), without threading a
// transaction client through every service method.
//
// `ambientTransactions(db)` gives the client every service is built with: it
// is `db` itself, except while `inTransaction(fn)` runs, when each query made
// (in fn's async context) through it goes to that transaction instead. A
// service's own `$transaction` inside joins the outer one: an array runs in
// order on it, a function gets it. Outside `inTransaction` nothing changes.
//
// Only Prisma's client takes part: the prepared-statement stores
// (src/db/artifact-store.ts and friends) read on their own connection and see
// what is committed.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db } from './database.ts';
import type { TransactionClient } from '../generated/sqlite/internal/prismaNamespace.ts';

export type Tx = TransactionClient;

/**
 * How long a transaction may wait for its connection, and run. An
 * administrative change may hash a password or seal a key inside it, on a
 * busy machine: more than Prisma's defaults (2 s, 5 s).
 */
const LIMITS = { maxWait: 10_000, timeout: 30_000 };

export interface Transactions {
  /** The client services are built with (see above). */
  db: Db;
  /** Runs fn in one transaction (joining the current one, if any): all of its writes, or none. */
  inTransaction<T>(fn: () => Promise<T>): Promise<T>;
}

export function ambientTransactions(root: Db): Transactions {
  const current = new AsyncLocalStorage<Tx>();

  async function joined(tx: Tx, arg: unknown): Promise<unknown> {
    if (typeof arg === 'function') return (arg as (tx: Tx) => Promise<unknown>)(tx);
    // A batch built through this client while the transaction is current: its
    // queries are already bound to tx and run when awaited, in order.
    const results: unknown[] = [];
    for (const query of arg as Array<PromiseLike<unknown>>) results.push(await query);
    return results;
  }

  const db = new Proxy(root, {
    get(target, prop) {
      const tx = current.getStore();
      if (tx && prop === '$transaction') return (arg: unknown) => joined(tx, arg);
      if (tx && typeof prop === 'string' && prop in tx) return (tx as unknown as Record<string, unknown>)[prop];
      // The client's own methods run on the client, not on this proxy.
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });

  return {
    db,
    inTransaction<T>(fn: () => Promise<T>): Promise<T> {
      if (current.getStore()) return fn();
      return root.$transaction((tx) => current.run(tx, fn), LIMITS);
    },
  };
}
