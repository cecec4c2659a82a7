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
 * Nothing else can use the client meanwhile: the adapter holds its lock from
 * BEGIN to COMMIT.
 *
 * A statement that gave up waiting (SQLITE_BUSY, after the busy timeout) is
 * left in progress by the binding (libsql 0.5.29; tursodatabase/libsql-js#237,
 * libsql-client-ts#352), and the driver prepares a statement per call and
 * keeps none: it lingers until V8 collects it (and Prisma's debug log, which
 * keeps its last 100 errors, lets go of it). Until then the connection's next
 * read fixes the snapshot it keeps reading, and every COMMIT on it fails
 * ("SQL statements in progress"): a server went on answering from an old
 * snapshot, and lost its writes, after one BEGIN that waited too long for the
 * CLI. So after such a failure the client's connection is replaced (the
 * driver's `reconnect`), outside a transaction or after its ROLLBACK. The old
 * connection holds no lock, but its file descriptor stays open for the life
 * of the process: SQLite closes a file only when no connection of the process
 * holds a lock on it, and the hot path's connection always holds one. A
 * replacement follows a wait of BUSY_TIMEOUT_MS that failed, so a process
 * makes few; a reconnect that failed is tried again before the next
 * statement.
 *
 * `synchronous = NORMAL` is set on every connection this opens (see
 * src/db/sqlite.ts): it is a setting of the connection, not of the file; so
 * is `wal_autocheckpoint`, when the server checkpoints on a thread
 * (src/db/checkpointer.ts).
 */
export class WaitingLibSql extends PrismaLibSql {
  private readonly checkpointAtFrames: number | undefined;

  constructor(file: string, opts: { busyTimeoutMs?: number; checkpointAtFrames?: number } = {}) {
    super({ url: `file:${file}`, timeout: opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS });
    this.checkpointAtFrames = opts.checkpointAtFrames;
  }

  override createClient(config: Config): Client {
    const client = super.createClient(config);
    const execute = client.execute.bind(client);
    const executeMultiple = client.executeMultiple.bind(client);
    const { checkpointAtFrames } = this;
    // Every call reaches these through the adapter's lock, one at a time.
    let configured = false;
    let stale = false;
    /** Before each statement: a fresh connection if one is owed, set up once. */
    const prepare = async () => {
      if (stale && !client.closed) {
        // The driver's reconnect reopens even a closed client: never after close().
        await client.reconnect();
        stale = false;
        configured = false;
      }
      if (!configured) {
        await execute('PRAGMA synchronous = NORMAL');
        if (checkpointAtFrames !== undefined) await execute(`PRAGMA wal_autocheckpoint = ${checkpointAtFrames}`);
        configured = true;
      }
    };
    const renew = async () => {
      stale = true;
      await prepare().catch(() => undefined);
    };
    /** Runs `call` on a connection that no failed statement holds (see above). */
    const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
      await prepare();
      try {
        return await call();
      } catch (err) {
        if (leftInProgress(err)) await renew();
        throw err;
      }
    };
    client.execute = ((stmt: Parameters<Client['execute']>[0], args?: Parameters<Client['execute']>[1]) =>
      guarded(() => execute(stmt as never, args as never))) as Client['execute'];
    client.executeMultiple = (sql) => guarded(() => executeMultiple(sql));
    client.transaction = async () => {
      await guarded(() => execute('BEGIN IMMEDIATE'));
      return sameConnectionTransaction(execute, renew);
    };
    return client;
  }
}

/** SQLITE_BUSY and its extended codes (the driver puts the base code in `code`): the failure that leaves a statement in progress. */
const leftInProgress = (err: unknown) => String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');

/** A transaction begun on the client's own connection, ended by COMMIT or ROLLBACK on it. */
function sameConnectionTransaction(execute: Client['execute'], renew: () => Promise<void>): Transaction {
  let open = true;
  // A statement inside that failed busy (not seen with BEGIN IMMEDIATE held, but possible) lingers like one outside.
  let owed = false;
  const live = () => {
    if (!open) throw new Error('The transaction is closed');
  };
  const run = async (stmt: Parameters<Transaction['execute']>[0]) => {
    try {
      return await execute(stmt as never);
    } catch (err) {
      if (leftInProgress(err)) owed = true;
      throw err;
    }
  };
  const end = async (sql: 'COMMIT' | 'ROLLBACK') => {
    live();
    try {
      await run(sql);
      open = false;
    } catch (err) {
      // A COMMIT that failed (SQLITE_BUSY, I/O) leaves the transaction open on
      // the shared connection: end it, so that the next BEGIN finds none.
      if (sql === 'COMMIT') await execute('ROLLBACK').catch(() => undefined);
      open = false;
      throw err;
    } finally {
      if (owed && !open) await renew();
    }
  };
  return {
    execute: async (stmt) => {
      live();
      return run(stmt);
    },
    batch: async (stmts) => {
      live();
      const results = [];
      for (const stmt of stmts) results.push(await run(stmt));
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
