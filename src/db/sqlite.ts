// SQLite as Latchkey uses it: one file in WAL mode, so that readers never
// wait for the writer and a commit appends to the log instead of rewriting
// pages, with `synchronous=NORMAL`, so that a commit does not wait for the
// disk (the WAL is synced at checkpoints). The trade-off, documented in the
// README: a power loss (not a crash of the process) can lose the last
// transactions before the checkpoint; it never corrupts the database.
import { PrismaLibSql } from '@prisma/adapter-libsql';
import Database from 'libsql';

// The driver's types as the adapter declares them (its own @libsql/client, not a dependency of ours).
type Config = Parameters<PrismaLibSql['createClient']>[0];
type Client = ReturnType<PrismaLibSql['createClient']>;

export type SqliteDatabase = InstanceType<typeof Database>;

/** Puts the file in WAL mode (a property of the file, kept across connections and restarts). */
export function useWalMode(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}

/**
 * A connection of our own for the statements on the hot path: prepared once,
 * run through libsql's synchronous API (microseconds each). It never waits
 * for a lock on the event loop: a write that finds the database locked (by
 * Prisma's connection in a transaction) fails at once with SQLITE_BUSY and is
 * retried asynchronously (see groupCommit).
 */
export function openFastConnection(file: string): SqliteDatabase {
  const db = new Database(file);
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 0');
  return db;
}

/**
 * How long a Prisma statement waits for another process's write to finish.
 * The admin CLI writes the same file while the server serves tokens: without
 * a wait (the driver's default), whichever of them found the other mid-write
 * failed at once with SQLITE_BUSY ("Operation has timed out", P1008).
 */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * The admin CLI's wait: a command would rather wait for the server than fail.
 * SQLite does not queue waiters (each polls, sleeping up to 100 ms between
 * tries), so on a loaded machine a server's stream of short transactions
 * kept a CLI write from the lock for 5 s, and the command failed (P1008).
 */
export const CLI_BUSY_TIMEOUT_MS = 30_000;

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

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT']);
const RETRY_FOR_MS = 5_000;

/** Writes that share one transaction, run and committed together. */
export interface GroupCommit {
  /**
   * Runs `write` (one statement) in the transaction of every write asked for
   * in the same turn of the event loop; resolves with its result once that
   * transaction has committed, never before.
   */
  <T>(write: () => T): Promise<T>;
  /** Transactions committed so far, and the writes they held. */
  readonly stats: { commits: number; writes: number };
}

interface Pending {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit on a connection of ours. Every statement run on its own is a
 * transaction of its own: a lock taken and released, the WAL frames of every
 * page it touched appended, the WAL index updated, all on the event loop.
 * Writes asked for while the loop serves a burst of requests (everything up
 * to the loop's check phase) instead run in ONE transaction, committed at
 * once (setImmediate); each caller's promise settles only after that commit,
 * so an answer still goes out only after its write is as durable as before
 * (in the WAL: a crash of the process loses nothing answered; see above for
 * a power loss). A statement that fails (a constraint) fails alone, as it
 * would have on its own; one that ends the transaction (I/O error, disk full)
 * fails the writes of that transaction, which then lose nothing committed
 * before. The lock is taken at BEGIN IMMEDIATE: when another connection
 * holds it, the whole group waits asynchronously (1, 2, 4… up to 50 ms, for
 * at most RETRY_FOR_MS) and
 * writes asked for meanwhile join it.
 */
export function groupCommit(db: SqliteDatabase): GroupCommit {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  let queue: Pending[] = [];
  let scheduled = false;
  let busySince = 0;
  let delay = 1;
  const stats = { commits: 0, writes: 0 };

  const settleAll = (batch: Pending[], err: unknown) => {
    for (const p of batch) p.reject(err);
  };

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (!batch.length) return;
    try {
      begin.run();
    } catch (err) {
      if (BUSY.has(String((err as { code?: string }).code)) && (busySince === 0 || Date.now() - busySince < RETRY_FOR_MS)) {
        // Locked by another connection (Prisma's, another process): the group waits, and grows.
        busySince ||= Date.now();
        queue = [...batch, ...queue];
        scheduled = true;
        setTimeout(flush, delay);
        delay = Math.min(delay * 2, 50);
        return;
      }
      busySince = 0;
      delay = 1;
      settleAll(batch, err);
      return;
    }
    busySince = 0;
    delay = 1;
    const results: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    for (const p of batch) {
      try {
        results.push({ ok: true, value: p.write() });
      } catch (err) {
        results.push({ ok: false, err });
        if (!db.inTransaction) {
          // SQLite rolled the whole transaction back (I/O error, disk full): nothing of it stands.
          settleAll(batch, err);
          return;
        }
      }
    }
    try {
      commit.run();
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      settleAll(batch, err);
      return;
    }
    stats.commits++;
    stats.writes += batch.length;
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r.ok) p.resolve(r.value);
      else p.reject(r.err);
    });
  }

  const run = <T>(write: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({ write, resolve: resolve as (v: unknown) => void, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  return Object.assign(run, { stats });
}

/** How Prisma stores a DateTime in SQLite (ISO text with an explicit offset), so that both read each other's values. */
export const sqliteDate = (d: Date) => d.toISOString().replace('Z', '+00:00');
