// The server's SQLite checkpoints, on a thread of their own.
//
// In WAL mode a commit appends pages to the log; a checkpoint copies them
// back into the database file and syncs both. SQLite runs it inside the
// commit that takes the log past 1,000 pages, on the connection that made
// it: ours are synchronous, so that was the event loop, held for the copy
// and two fsyncs every few hundred token requests, the slowest percent of
// every answer (refresh one request at a time: p99 7.7–9.5 against 6.4–9.0
// ms; bench/README.md, "Stop 36").
//
// Here a worker thread with a connection of its own copies the log every
// COPY_MS without blocking anyone (PASSIVE), and syncs it about every
// SYNC_MS. A log that is never restarted would grow without end under
// steady writes (a PASSIVE checkpoint never catches up with a writer that
// does not stop), so once the log has RESTART_FRAMES pages the thread
// restarts it (RESTART). That takes the
// write lock for the copy of the pages written since, and the syncs: the
// hot path's writes wait for it asynchronously (src/db/sqlite.ts,
// groupCommit), Prisma's statements in SQLite's busy handler, on the event
// loop, as they wait for the admin CLI (docs/operating.md).
//
// The server's connections keep a checkpoint of their own at CEILING_FRAMES,
// for a thread that falls behind; if the thread fails, the hot path's
// connection goes back to SQLite's default, and the failure is reported.
// Durability is unchanged: a commit is in the log before it is answered,
// whoever copies it later.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './sqlite.ts';

/**
 * How often the thread syncs the log (fdatasync of the -wal file): with
 * `synchronous=NORMAL` nothing else syncs it between copies, so while the
 * thread runs this bounds what a power loss can take, as the copies every
 * 50 ms did until stop 51. Ticks are scheduled at this rate, whatever a tick
 * took.
 */
const SYNC_MS = 50;
/**
 * How often the thread copies the log. A copy writes each page changed since
 * the last one once, however often it changed: the same index pages change
 * at every refresh, so copying every 50 ms wrote most of them again each
 * time. Without the syncs in between, copying every 250 ms took the thread's
 * CPU per refresh from 42–72 to 15–30 µs; with them, 34–48 µs, a gain within
 * the spread of so few runs (bench/README.md, "Stop 51"). The syncs alone
 * write no more than the copies' own syncs did, so the change costs nothing.
 */
const COPY_MS = 250;
/**
 * Log size (pages) at which the thread restarts it: a log of ~16 MB. The
 * restart holds the write lock for its copy and syncs, so each one stalls
 * the token writes of that moment; at SQLite's own threshold (1,000 pages)
 * a busy server restarted every ~100 ms, and those stalls were the slowest
 * percent of refreshes (bench/README.md, "Stop 45"). The log is synced
 * about every SYNC_MS whatever its size, so a larger log holds nothing
 * unsynced for longer.
 */
export const RESTART_FRAMES = 4000;
/**
 * How long the restart waits for the writer, then for readers of the old
 * log (ms); while it waits for readers it holds the write lock. A restart
 * that could not finish is tried again at a doubling interval (up to
 * MAX_RESTART_BACKOFF copies, 1.5 s), so a long reader (an export) does not
 * take the lock from writers at every copy.
 */
const BUSY_MS = 10;
const MAX_RESTART_BACKOFF = 6;
/** A tick that fails (an I/O error) is retried; this many in a row end the thread. */
const MAX_FAILURES = 5;
/** The connections' own checkpoint while the thread runs: a log four times the restart size. */
export const CEILING_FRAMES = 4 * RESTART_FRAMES;
/** SQLite's default, back on the hot path's connection when the thread is gone. */
const SQLITE_DEFAULT_FRAMES = 1000;
/** The longest an exiting process waits for the thread to leave libsql: a checkpoint's copy and syncs. */
const EXIT_WAIT_MS = 2_000;

// The flags the thread and the process share (Int32Array indexes): the
// process is exiting; the thread is inside libsql; how many times the thread
// has synced the log.
const EXITING = 0;
const IN_LIBSQL = 1;
const LOG_SYNCS = 2;

// CommonJS, evaluated in the worker (no TypeScript loader there).
//
// libsql aborts the whole process (a Rust panic, exit 134) when the thread
// is torn down while inside it (loading it included), as an exit tears every
// thread down; this is why the first checkpoint thread, 00e4525, was
// reverted. A process that exits without closing the thread (a crash, a
// forced stop) raises EXITING and waits for the thread to leave libsql,
// which it then never enters again.
const WORKER_SOURCE = `
const { closeSync, fdatasyncSync, openSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const { parentPort, workerData } = require('node:worker_threads');
const flags = workerData.flags;
function inLibsql(call) {
  Atomics.store(flags, ${IN_LIBSQL}, 1);
  try {
    return Atomics.load(flags, ${EXITING}) === 1 ? undefined : call();
  } finally {
    Atomics.store(flags, ${IN_LIBSQL}, 0);
    Atomics.notify(flags, ${IN_LIBSQL});
  }
}
const Database = inLibsql(() => require(workerData.libsql));
const db = Database && inLibsql(() => new Database(workerData.file));
if (db) inLibsql(() => db.pragma('busy_timeout = ' + workerData.busyMs));
let timer;
let failures = 0;
let lastLog = -1;
let backoff = 1;
let skip = 0;
let lastCopy = -Infinity;
let logFd;
function copy() {
  const copied = inLibsql(() => db.pragma('wal_checkpoint(PASSIVE)')[0]);
  // A log unchanged since the last copy is left alone: once copied, the next write starts it over.
  if (copied && !copied.busy && copied.log >= workerData.restartFrames && copied.log !== lastLog) {
    if (skip > 0) skip--;
    else {
      const restarted = inLibsql(() => db.pragma('wal_checkpoint(RESTART)')[0]);
      backoff = restarted && restarted.busy ? Math.min(backoff * 2, workerData.maxBackoff) : 1;
      skip = restarted && restarted.busy ? backoff : 0;
    }
  }
  if (copied) lastLog = copied.log;
}
// Any moment will do: frames of a commit still being written have no commit
// frame yet, and recovery stops at the last whole commit, as after a sync at
// commit (synchronous=FULL). The server's connections keep the -wal file
// (SQLite removes it with the last connection; a restart reuses it), so one
// descriptor serves. Closing it releases no lock of SQLite's: in WAL mode
// SQLite locks the database file and the -shm file, never the -wal file.
function syncLog() {
  if (logFd === undefined) {
    try {
      logFd = openSync(workerData.file + '-wal', 'r');
    } catch (err) {
      if (err.code === 'ENOENT') return;
      throw err;
    }
  }
  try {
    fdatasyncSync(logFd);
  } catch (err) {
    // Linux reports a lost write-back once; the next sync would succeed
    // without the lost pages. The thread ends, and the failure is reported.
    err.fatal = true;
    throw err;
  }
  Atomics.add(flags, ${LOG_SYNCS}, 1);
}
function closeLog() {
  if (logFd === undefined) return;
  const fd = logFd;
  logFd = undefined;
  try {
    closeSync(fd);
  } catch {}
}
function tick() {
  const started = performance.now();
  try {
    if (started - lastCopy >= workerData.copyMs) {
      lastCopy = started;
      copy();
    }
    // After a copy too: a copy syncs the log only when it had pages to copy
    // and no reader held them back.
    syncLog();
    failures = 0;
  } catch (err) {
    if (err.fatal || ++failures >= workerData.maxFailures) {
      closeLog();
      throw err;
    }
  }
  if (Atomics.load(flags, ${EXITING}) === 0) timer = setTimeout(tick, Math.max(0, workerData.syncMs - (performance.now() - started)));
}
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  try {
    closeLog();
    inLibsql(() => db && db.close());
  } finally {
    parentPort.close();
  }
});
if (db) {
  tick();
  // After the first copy: from here on, the log is the thread's.
  parentPort.postMessage({ ready: true });
}
`;

export interface Checkpointer {
  /** Starts the thread (once; later calls do nothing). Never throws: a thread that cannot start is reported to `onLost`. */
  start(): void;
  /** Whether the thread is copying the log now. */
  readonly running: boolean;
  /** How many times the thread has synced the log (at every tick, copy or not). */
  readonly logSyncs: number;
  /** Stops the thread after its current checkpoint (never inside one). */
  close(): Promise<void>;
}

export interface CheckpointOptions {
  /** Hears why a thread that was started is gone (checkpoints are then the connection's again). */
  onLost(err: Error): void;
  /** How often the thread copies the log (default COPY_MS; the tests set it). */
  copyMs?: number;
}

/**
 * Checkpoints of `file` on a thread, for `connection` (the hot path's). The
 * thread starts at `start()`: the server calls it after its first write, so
 * a server that writes nothing, or the admin CLI, never pays for it (~4 MB).
 */
export function backgroundCheckpoints(file: string, connection: SqliteDatabase, opts: CheckpointOptions): Checkpointer {
  let worker: Worker | undefined;
  let started = false;
  let running = false;
  let stopping = false;
  let exited: Promise<void> = Promise.resolve();

  const lost = (err: Error) => {
    running = false;
    if (stopping) return;
    if (connection.open) connection.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_FRAMES}`);
    opts.onLost(err);
  };

  const flags = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  // Synchronous, as 'exit' listeners are: Atomics.wait blocks the exiting thread until the checkpoint thread is out of libsql.
  const onExit = () => {
    Atomics.store(flags, EXITING, 1);
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (Atomics.load(flags, IN_LIBSQL) === 1 && Date.now() < deadline) Atomics.wait(flags, IN_LIBSQL, 1, 50);
  };

  const spawn = (): Worker => {
    const require = createRequire(import.meta.url);
    return new Worker(WORKER_SOURCE, {
      eval: true,
      // The parent's --import tsx would start a loader thread in the worker.
      execArgv: [],
      workerData: {
        libsql: require.resolve('libsql'),
        file,
        flags,
        copyMs: opts.copyMs ?? COPY_MS,
        syncMs: SYNC_MS,
        restartFrames: RESTART_FRAMES,
        busyMs: BUSY_MS,
        maxBackoff: MAX_RESTART_BACKOFF,
        maxFailures: MAX_FAILURES,
      },
    });
  };

  return {
    start() {
      if (started || stopping) return;
      // Once: a thread that cannot start is reported once, not at every commit.
      started = true;
      try {
        worker = spawn();
      } catch (err) {
        return lost(err as Error);
      }
      process.once('exit', onExit);
      // The thread never keeps the process alive on its own.
      worker.unref();
      let failure: Error | undefined;
      exited = new Promise<void>((resolve) => {
        worker!.on('exit', (code) => {
          process.off('exit', onExit);
          lost(failure ?? new Error(`the checkpoint thread exited (${code})`));
          resolve();
        });
      });
      worker.on('error', (err) => (failure = err));
      worker.on('message', (message: { ready?: true }) => {
        if (!message.ready || stopping || !connection.open) return;
        running = true;
        connection.pragma(`wal_autocheckpoint = ${CEILING_FRAMES}`);
      });
    },
    get running() {
      return running;
    },
    get logSyncs() {
      return Atomics.load(flags, LOG_SYNCS);
    },
    async close() {
      stopping = true;
      if (!worker) return;
      // Held until it has stopped: unreferenced, a process with nothing else to do would end while waiting for it.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
