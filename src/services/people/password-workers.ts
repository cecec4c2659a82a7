// bcrypt on worker threads of our own, at the lowest CPU priority (unless
// PASSWORD_HASH_NICE says otherwise).
//
// bcrypt's asynchronous API runs on libuv's thread pool, which WebCrypto
// (every JWT we sign) and file I/O share: during a storm of logins, token
// requests queued behind 200 ms hashes. Here each hash runs synchronously on
// a dedicated thread, at most `threads` at once (one core is left to the
// event loop), and on Linux each thread lowers its own priority (nice 19) so
// that the scheduler always prefers the event loop when both want the CPU:
// logins still get every idle cycle, tokens are never starved by them.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { VerifyJob } from './password-hashes.ts';

type Job =
  | { op: 'hash'; password: string; cost: number }
  | { op: 'compare'; password: string; hash: string }
  | { op: 'verify'; password: string; check: VerifyJob };

/** A verification's outcome and how long the thread computed it (queueing excluded), milliseconds. */
export interface Verified {
  ok: boolean;
  ms: number;
}
interface Pending {
  job: Job;
  resolve(value: string | boolean | Verified): void;
  reject(err: Error): void;
  /** Settles with the job, whatever its outcome. */
  done: Promise<unknown>;
}

// CommonJS, evaluated in the worker: no TypeScript loader is started there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const bcrypt = require(workerData.bcrypt);
// Loaded at the first argon2 hash only: threads that never see one never load it.
let argon2;
const same = (a, b) => a.length === b.length && crypto.timingSafeEqual(a, b);
// Imported hashes (src/services/people/password-hashes.ts parses them into these jobs).
function verify(password, c) {
  switch (c.kind) {
    case 'bcrypt':
      return bcrypt.compareSync(c.prehash ? crypto.createHash('sha256').update(password).digest('hex') : password, c.hash);
    case 'argon2':
      argon2 ??= require(workerData.argon2);
      try { return argon2.verifySync(c.hash, password); } catch { return false; }
    case 'scrypt': {
      const expected = Buffer.from(c.expected, 'base64');
      const got = crypto.scryptSync(password, Buffer.from(c.salt, 'base64'), expected.length, { N: c.N, r: c.r, p: c.p, maxmem: 288 * 1024 * 1024 });
      return same(got, expected);
    }
    case 'pbkdf2': {
      const expected = Buffer.from(c.expected, 'base64');
      return same(crypto.pbkdf2Sync(password, Buffer.from(c.salt, 'base64'), c.iterations, expected.length, c.digest), expected);
    }
    default:
      throw new Error('unknown verification job');
  }
}
try {
  // /proc/thread-self names this thread; setpriority on a thread id renices that thread alone.
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, workerData.nice);
} catch {}
parentPort.postMessage({ ready: true });
parentPort.on('message', (job) => {
  try {
    const started = performance.now();
    const result = job.op === 'hash' ? bcrypt.hashSync(job.password, job.cost)
      : job.op === 'compare' ? bcrypt.compareSync(job.password, job.hash)
      : { ok: verify(job.password, job.check), ms: performance.now() - started };
    parentPort.postMessage({ result });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
});
`;

/** Lowest priority: hashing only ever uses cycles nothing else wants (PASSWORD_HASH_NICE). */
export const DEFAULT_NICE = 19;

/** Default: every core but one, at least one. */
export const defaultPasswordThreads = () => Math.max(1, availableParallelism() - 1);

export interface PasswordWorkers {
  hash(password: string, cost: number): Promise<string>;
  compare(password: string, hash: string): Promise<boolean>;
  /** Any supported hash (bcrypt, argon2, scrypt, PBKDF2), with the thread's compute time. */
  verify(password: string, check: VerifyJob): Promise<Verified>;
  /** Hashes waiting for a thread (a gauge for the metrics). */
  readonly queued: number;
  close(): Promise<void>;
}

export function createPasswordWorkers(threads = defaultPasswordThreads(), nice = DEFAULT_NICE): PasswordWorkers {
  const require = createRequire(import.meta.url);
  const bcryptPath = require.resolve('bcrypt');
  const argon2Path = require.resolve('@node-rs/argon2');
  const idle: Worker[] = [];
  const busy = new Map<Worker, Pending>();
  // Threads still loading bcrypt, and what settles when they are loaded (or gone).
  const starting = new Map<Worker, Promise<void>>();
  const queue: Pending[] = [];
  let spawned = 0;
  let closed = false;

  const spawn = (): Worker => {
    spawned++;
    // execArgv [] : the parent's --import tsx would start a loader thread per worker.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { bcrypt: bcryptPath, argon2: argon2Path, nice } });
    worker.unref();
    let loaded!: () => void;
    starting.set(worker, new Promise<void>((resolve) => (loaded = resolve)));
    const started = () => {
      starting.delete(worker);
      loaded();
    };
    worker.on('message', (msg: { ready?: true; result?: string | boolean | Verified; error?: string }) => {
      if (msg.ready) return started();
      const pending = busy.get(worker);
      busy.delete(worker);
      if (pending) {
        if (msg.error !== undefined) pending.reject(new Error(`password hashing failed: ${msg.error}`));
        else pending.resolve(msg.result!);
      }
      release(worker);
    });
    let gone = false;
    // 'error' is followed by 'exit': count the loss once.
    const lost = (err: Error) => {
      if (gone) return;
      gone = true;
      started();
      const pending = busy.get(worker);
      busy.delete(worker);
      const i = idle.indexOf(worker);
      if (i >= 0) idle.splice(i, 1);
      spawned--;
      pending?.reject(err);
      if (!closed) pump();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`password worker exited (${code})`)));
    return worker;
  };

  const release = (worker: Worker) => {
    const next = queue.shift();
    if (next) return run(worker, next);
    idle.push(worker);
  };

  const run = (worker: Worker, pending: Pending) => {
    busy.set(worker, pending);
    worker.postMessage(pending.job);
  };

  const pump = () => {
    while (queue.length && (idle.length || spawned < threads)) run(idle.pop() ?? spawn(), queue.shift()!);
  };

  const submit = <T extends string | boolean | Verified>(job: Job): Promise<T> => {
    if (closed) return Promise.reject(new Error('password workers are closed'));
    let pending!: Pending;
    const result = new Promise<T>((resolve, reject) => {
      pending = { job, resolve: resolve as Pending['resolve'], reject, done: Promise.resolve() };
    });
    pending.done = result.catch(() => {});
    queue.push(pending);
    pump();
    return result;
  };

  return {
    hash: (password, cost) => submit<string>({ op: 'hash', password, cost }),
    compare: (password, hash) => submit<boolean>({ op: 'compare', password, hash }),
    verify: (password, check) => submit<Verified>({ op: 'verify', password, check }),
    get queued() {
      return queue.length;
    },
    async close() {
      closed = true;
      for (const p of queue.splice(0)) p.reject(new Error('password workers are closed'));
      // Never terminate a thread inside native code: one still loading bcrypt or
      // hashing is let finish, then stopped (terminating it there aborts the
      // process, exit 134). At most one hash's time.
      await Promise.all([...starting.values(), ...[...busy.values()].map((p) => p.done)]);
      await Promise.all([...idle.splice(0), ...busy.keys()].map((w) => w.terminate()));
    },
  };
}
