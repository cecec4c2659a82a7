// The server's SQLite checkpoints, on a thread of their own.
//
// In WAL mode a commit appends pages to the log; a checkpoint copies them
// back into the database file and syncs both. SQLite runs it inside the
// commit that takes the log past 1,000 pages, on the connection that made
// it: ours are synchronous, so that was the event loop, held for the copy
// and two fsyncs (5–10 ms here) every few hundred token requests, the
// slowest percent of every answer (refresh at one request at a time: p99
// 8–9 against 6–7 ms without; bench/README.md, stop 36).
//
// Here a worker thread with a connection of its own copies the log every
// INTERVAL_MS without blocking anyone (PASSIVE). Once the log has
// RESTART_FRAMES pages it restarts it (RESTART): that takes the write lock
// for the few pages written since and the syncs, so the hot path's writes
// wait asynchronously for it (src/db/sqlite.ts, groupCommit), and nothing
// else does. A log that is never restarted would grow without end under
// constant writes: a PASSIVE checkpoint never catches up with a writer
// that does not stop.
//
// The server's connections keep a checkpoint of their own at CEILING_FRAMES,
// for a thread that falls behind; if the thread fails, the hot path's
// connection goes back to SQLite's default, and the failure is reported.
// Durability is unchanged: a commit is in the log before it is answered,
// whoever copies it later.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './sqlite.ts';

/** How often the thread copies the log. At 1,500 writes a second, a few hundred pages each time. */
const INTERVAL_MS = 50;
/** Log size (pages) at which the thread restarts it: SQLite's own checkpoint threshold, a log of ~4 MB. */
const RESTART_FRAMES = 1000;
/**
 * How long the restart waits for a writer or a reader (ms); while it waits
 * for readers it holds the write lock, so this bounds the wait it imposes
 * on writes. It is tried again at the next interval.
 */
const BUSY_MS = 10;
/** The connections' own checkpoint once the thread runs: only if it falls four restarts behind. */
export const CEILING_FRAMES = 4 * RESTART_FRAMES;
/** SQLite's default, back on the hot path's connection when the thread is gone. */
const SQLITE_DEFAULT_FRAMES = 1000;

// The flags the thread and the process share (Int32Array indexes): the
// process is exiting; the thread is inside libsql.
const EXITING = 0;
const IN_LIBSQL = 1;

// CommonJS, evaluated in the worker (no TypeScript loader there). An error
// ends the thread; the parent then checkpoints on its connection again.
//
// libsql aborts the whole process (a Rust panic, exit 134) when the thread
// is torn down while inside one of its calls, as an exit tears every thread
// down (this is why the first checkpoint thread, 00e4525, was reverted): a
// process that exits without closing it first (a crash, a forced stop)
// raises EXITING and waits for the thread to leave libsql, which it then
// never enters again.
const WORKER_SOURCE = `
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
const Database = require(workerData.libsql);
const db = inLibsql(() => new Database(workerData.file));
inLibsql(() => db.pragma('busy_timeout = ' + workerData.busyMs));
let timer;
function tick() {
  const copied = inLibsql(() => db.pragma('wal_checkpoint(PASSIVE)')[0]);
  if (copied && !copied.busy && copied.log >= workerData.restartFrames) inLibsql(() => db.pragma('wal_checkpoint(RESTART)'));
  if (Atomics.load(flags, ${EXITING}) === 0) timer = setTimeout(tick, workerData.intervalMs);
}
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  inLibsql(() => db && db.close());
  parentPort.close();
});
parentPort.postMessage({ ready: true });
tick();
`;

/** The longest an exiting process waits for the thread to leave libsql: a checkpoint's copy and syncs. */
const EXIT_WAIT_MS = 2_000;

export interface Checkpointer {
  /** Starts the thread (once; later calls do nothing). */
  start(): void;
  /** Whether the thread is copying the log now. */
  readonly running: boolean;
  /** Stops the thread after its current checkpoint (never inside one). */
  close(): Promise<void>;
}

/**
 * Checkpoints of `file` on a thread, for `connection` (the hot path's). The
 * thread starts at `start()`: the server calls it at its first write, so a
 * server that writes nothing, or the admin CLI, never pays for it (~4 MB).
 * `onLost` hears why a thread that was started is gone.
 */
export function backgroundCheckpoints(file: string, connection: SqliteDatabase, onLost: (err: Error) => void): Checkpointer {
  let worker: Worker | undefined;
  let running = false;
  let stopping = false;
  let exited: Promise<void> = Promise.resolve();

  const lost = (err: Error) => {
    running = false;
    if (stopping) return;
    if (connection.open) connection.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_FRAMES}`);
    onLost(err);
  };

  const flags = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  // Synchronous, as 'exit' listeners are: Atomics.wait blocks the exiting thread until the checkpoint thread is out of libsql.
  const onExit = () => {
    Atomics.store(flags, EXITING, 1);
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (Atomics.load(flags, IN_LIBSQL) === 1 && Date.now() < deadline) Atomics.wait(flags, IN_LIBSQL, 1, 50);
  };

  return {
    start() {
      if (worker || stopping) return;
      const require = createRequire(import.meta.url);
      process.once('exit', onExit);
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // The parent's --import tsx would start a loader thread in the worker.
        execArgv: [],
        workerData: { libsql: require.resolve('libsql'), file, flags, intervalMs: INTERVAL_MS, restartFrames: RESTART_FRAMES, busyMs: BUSY_MS },
        resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
      });
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
    async close() {
      stopping = true;
      if (!worker) return;
      // Held until it has stopped: unreferenced, a process with nothing else to do would end while waiting for it.
      worker.ref();
      worker.postMessage('stop');
      await exited;
      process.off('exit', onExit);
      running = false;
    },
  };
}
