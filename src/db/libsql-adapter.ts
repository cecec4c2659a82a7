// Prisma's SQLite adapter as Latchkey runs it (see WaitingLibSql). Loaded on
// first use through libSqlAdapter (src/db/sqlite.ts), which says why.
import { PrismaLibSql } from '@prisma/adapter-libsql';
import { BUSY_TIMEOUT_MS } from './sqlite.ts';

// The driver's types as the adapter declares them (its own @libsql/client, not a dependency of ours).
type Config = Parameters<PrismaLibSql['createClient']>[0];
type Client = ReturnType<PrismaLibSql['createClient']>;

type Transaction = Awaited<ReturnType<Client['transaction']>>;

/**
 * Prisma's SQLite adapter as Latchkey needs it with more than one process on
 * the file: every connection of the driver's pool waits up to BUSY_TIMEOUT_MS
 * for a lock, and every transaction takes the write lock at BEGIN
 * (IMMEDIATE). The adapter begins DEFERRED, so a transaction that read before
 * it wrote failed half-way with SQLITE_BUSY_SNAPSHOT, which no wait can cure,
 * whenever another process committed in between.
 *
 * Every transaction also runs on the client's one connection. The driver
 * (@libsql/client 0.17, local files) hands its connection to each
 * transaction and opens a new one for whatever comes next, without ever
 * closing the old: it is freed only when V8 collects its JavaScript wrapper
 * and every statement prepared on it, and V8, which sees a few bytes, not
 * the page cache and parsed schema behind them (about 2 MB after a batch of
 * inserts), does that rarely. A `user import` of 100,000 people (200
 * transactions) grew by some 300 MB of native memory so (bench/README.md).
 * The new connections also lost `synchronous = NORMAL`, set per connection
 * when the adapter connects (src/db/database.ts). Nothing else can use the
 * client meanwhile: the adapter holds its lock from BEGIN to COMMIT.
 */
export class WaitingLibSql extends PrismaLibSql {
  constructor(file: string, busyTimeoutMs = BUSY_TIMEOUT_MS) {
    super({ url: `file:${file}`, timeout: busyTimeoutMs });
  }

  override createClient(config: Config): Client {
    const client = super.createClient(config);
    client.transaction = async () => {
      await client.execute('BEGIN IMMEDIATE');
      return sameConnectionTransaction(client);
    };
    return client;
  }
}

/** A transaction begun on `client`'s own connection, ended by COMMIT or ROLLBACK on it. */
function sameConnectionTransaction(client: Client): Transaction {
  let open = true;
  const live = () => {
    if (!open) throw new Error('The transaction is closed');
  };
  const end = async (sql: 'COMMIT' | 'ROLLBACK') => {
    live();
    try {
      await client.execute(sql);
      open = false;
    } catch (err) {
      // A COMMIT that failed (SQLITE_BUSY, I/O) leaves the transaction open on
      // the shared connection: end it, so that the next BEGIN finds none.
      if (sql === 'COMMIT') await client.execute('ROLLBACK').catch(() => undefined);
      open = false;
      throw err;
    }
  };
  return {
    execute: async (stmt) => {
      live();
      return client.execute(stmt);
    },
    batch: async (stmts) => {
      live();
      const results = [];
      for (const stmt of stmts) results.push(await client.execute(stmt));
      return results;
    },
    // The client's executeMultiple rolls back whatever transaction it finds open; Prisma's adapter never asks a transaction for a script.
    executeMultiple: () => Promise.reject(new Error('executeMultiple is not available inside a transaction')),
    commit: () => end('COMMIT'),
    rollback: () => (open ? end('ROLLBACK').catch(() => undefined) : Promise.resolve()),
    close: () => {
      if (open) void end('ROLLBACK').catch(() => undefined);
    },
    get closed() {
      return !open;
    },
  };
}
