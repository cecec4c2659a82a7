// SQLite as Latchkey uses it: one file in WAL mode, so that readers never
// wait for the writer and a commit appends to the log instead of rewriting
// pages, with `synchronous=NORMAL`, so that a commit does not wait for the
// disk (the WAL is synced at checkpoints). The trade-off, documented in the
// README: a power loss (not a crash of the process) can lose the last
// transactions before the checkpoint; it never corrupts the database.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'libsql';

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
  db.pragma('wal_autocheckpoint = 0');
  return db;
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

/**
 * WAL checkpoints on a thread of their own. By default SQLite checkpoints
 * inside the commit that grows the log past 1,000 pages: that commit copies
 * 4 MB back into the database file and syncs it, on the event loop (libsql's
 * API is synchronous), and every request waits. Our connections turn that off
 * (`wal_autocheckpoint = 0`) and this thread runs a PASSIVE checkpoint (it
 * never waits for, nor blocks, readers and writers) every `everyMs`.
 */
export interface Checkpointer {
  close(): Promise<void>;
}

// Stopped by a message, never terminated: libsql aborts the process when a
// thread holding a connection is torn down from outside.
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.libsql);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.everyMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(file: string, everyMs = 1000): Checkpointer {
  const libsql = createRequire(import.meta.url).resolve('libsql');
  let worker: Worker | undefined;
  let closed = false;
  const start = () => {
    worker = new Worker(CHECKPOINT_WORKER, { eval: true, execArgv: [], workerData: { file, libsql, everyMs } });
    worker.unref();
    // Should it ever die, start another: without it the log would only grow.
    worker.on('error', () => {});
    worker.on('exit', () => {
      if (!closed) setTimeout(start, everyMs).unref();
    });
  };
  start();
  return {
    async close() {
      closed = true;
      const w = worker;
      if (!w) return;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.ref(); // until it has stopped
        w.postMessage('stop');
      });
    },
  };
}
