// SQLite as Latchkey uses it: one file in WAL mode, so that readers never
// wait for the writer and a commit appends to the log instead of rewriting
// pages, with `synchronous=NORMAL`, so that a commit does not wait for the
// disk (the server's checkpoint thread syncs the WAL about every 50 ms;
// without the thread, checkpoints sync it). The trade-off, documented in
// docs/operating.md: a power loss (not a crash of the process) can lose the
// transactions since the last sync; it never corrupts the database.
import Database from 'libsql';
import { backgroundCheckpoints, type Checkpointer, type CheckpointOptions } from './checkpointer.ts';

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
 * The hot path's writes on SQLite, as a server puts them together: its own
 * connection, the group commit, and (when `background` is given) the
 * checkpoint thread, started by the first commit.
 */
export function sqliteWritePath(file: string, background?: CheckpointOptions): { fast: SqliteDatabase; write: GroupCommit; checkpoints?: Checkpointer } {
  const fast = openFastConnection(file);
  const checkpoints = background && backgroundCheckpoints(file, fast, background);
  return { fast, write: groupCommit(fast, checkpoints?.start), checkpoints };
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

/**
 * The Prisma adapter for a SQLite file, loaded on first use, so that a
 * process opens it only when configured for SQLite (as PostgreSQL's). The
 * build bundles it with the libSQL client's local-file part only
 * (scripts/build.mjs says why).
 */
export async function libSqlAdapter(file: string, opts: { busyTimeoutMs?: number; checkpointAtFrames?: number } = {}) {
  const { WaitingLibSql } = await import('./libsql-adapter.ts');
  return new WaitingLibSql(file, opts);
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
 * writes asked for meanwhile join it. `onCommit` runs after each commit,
 * once its writes are settled; it must not throw.
 */
export function groupCommit(db: SqliteDatabase, onCommit?: () => void): GroupCommit {
  // Not a prepared statement: libsql leaves one that failed busy in
  // progress, and the connection then kept reading the snapshot it had
  // taken until the retry, missing what other connections committed
  // meanwhile (the admin CLI, Prisma, a checkpoint's restart).
  const begin = () => db.exec('BEGIN IMMEDIATE');
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
      begin();
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
    onCommit?.();
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
