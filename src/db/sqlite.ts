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
 * retried asynchronously (see retryBusy).
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
 * Prisma's SQLite adapter as Latchkey needs it with more than one process on
 * the file: every connection of the driver's pool waits up to BUSY_TIMEOUT_MS
 * for a lock, and every transaction takes the write lock at BEGIN
 * (IMMEDIATE). The adapter begins DEFERRED, so a transaction that read before
 * it wrote failed half-way with SQLITE_BUSY_SNAPSHOT, which no wait can cure,
 * whenever another process committed in between.
 */
export class WaitingLibSql extends PrismaLibSql {
  constructor(file: string) {
    super({ url: `file:${file}`, timeout: BUSY_TIMEOUT_MS });
  }

  override createClient(config: Config): Client {
    const client = super.createClient(config);
    const begin = client.transaction.bind(client);
    client.transaction = () => begin('write');
    return client;
  }
}

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT']);
const RETRY_FOR_MS = 5_000;

/** Runs `fn`; while the database is locked by another connection, tries again without blocking the event loop. */
export async function retryBusy<T>(fn: () => T): Promise<T> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      return fn();
    } catch (err) {
      if (!BUSY.has(String((err as { code?: string }).code)) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** How Prisma stores a DateTime in SQLite (ISO text with an explicit offset), so that both read each other's values. */
export const sqliteDate = (d: Date) => d.toISOString().replace('Z', '+00:00');
