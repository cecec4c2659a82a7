// The servers under test, each in a child process of its own so that its
// CPU time and RSS are its own: Latchkey exactly as `npm start` runs it
// (the compiled dist/server.js under plain node, built first when src/
// changed), and the bare-library baseline (bench/baseline-server.ts, with
// `node --import tsx` rather than the tsx CLI, whose wrapper process would
// stand between us and the server's pid).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { ensureBuilt, startArgs } from '../scripts/build.mjs';

export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface ServerHandle {
  kind: 'latchkey' | 'baseline';
  pid: number;
  origin: string;
  port: number;
  /** Milliseconds from spawn until /healthz answered 200. */
  healthyAfterMs: number;
  /** Milliseconds from spawn until the server said it was ready ('latchkey is ready' / 'Latchkey is running.'). */
  readyAfterMs: number | undefined;
  logFile: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

export interface SpawnOptions {
  kind: 'latchkey' | 'baseline';
  env: Record<string, string>;
  port: number;
  logDir: string;
  /** `taskset -c` CPU list for the child, or undefined to let it float. */
  cpus?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Latchkey from the compiled build (default) or from src/ through tsx (how it ran before; bench/startup.ts compares). */
  entry?: 'dist' | 'src';
  /** Latchkey from another checkout's dist/ (built there, not here): --compare. */
  root?: string;
  /** Another node binary (e.g. Node 24's); default this process's. */
  node?: string;
  timeoutMs?: number;
}

export async function spawnServer(opts: SpawnOptions): Promise<ServerHandle> {
  const compiled = opts.kind === 'latchkey' && opts.entry !== 'src';
  if (compiled && !opts.root) ensureBuilt();
  const nodeArgs = opts.root
    ? [...startArgs(opts.nodeFlags).slice(0, -1), join(opts.root, 'dist', 'server.js')]
    : compiled
      ? startArgs(opts.nodeFlags)
      : [...(opts.nodeFlags ?? []), '--import', 'tsx', join(repoRoot, opts.kind === 'latchkey' ? 'src/server.ts' : 'bench/baseline-server.ts')];
  const node = opts.node ?? process.execPath;
  // taskset execs node in place, so the pid we get is the server's own.
  const [cmd, args] = opts.cpus ? ['taskset', ['-c', opts.cpus, node, ...nodeArgs]] : [node, nodeArgs];
  const logFile = join(opts.logDir, `${opts.kind}${opts.root ? '-b' : ''}-${opts.port}.log`);
  const log = createWriteStream(logFile);
  const started = performance.now();
  const child = spawn(cmd, args, {
    cwd: opts.root ?? repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let readyAfterMs: number | undefined;
  let output = '';
  const watch = (chunk: Buffer) => {
    log.write(chunk);
    if (readyAfterMs === undefined) {
      output = (output + chunk.toString()).slice(-4096);
      if (/latchkey is ready|Latchkey is running\.|baseline is ready/.test(output)) readyAfterMs = performance.now() - started;
    }
  };
  child.stdout!.on('data', watch);
  child.stderr!.on('data', watch);
  let exited: number | null | undefined;
  const exit = new Promise<void>((res) =>
    child.once('exit', (code) => {
      exited = code;
      res();
    }),
  );

  const origin = `http://127.0.0.1:${opts.port}`;
  const probe = new Pool(origin, { connections: 1 });
  const deadline = started + (opts.timeoutMs ?? 60_000);
  let healthyAfterMs: number | undefined;
  try {
    while (healthyAfterMs === undefined) {
      if (exited !== undefined) throw new Error(`${opts.kind} exited with ${exited} before answering; see ${logFile}:\n${output.slice(-1500)}`);
      if (performance.now() > deadline) throw new Error(`${opts.kind} did not answer /healthz in time; see ${logFile}`);
      try {
        const res = await probe.request({ path: '/healthz', method: 'GET' });
        await res.body.dump();
        if (res.statusCode === 200) healthyAfterMs = performance.now() - started;
      } catch {
        // not listening yet
      }
      if (healthyAfterMs === undefined) await new Promise((r) => setTimeout(r, 5));
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    await probe.close();
  }
  // The ready line is printed just after listen(); give it a moment to arrive.
  for (let i = 0; i < 100 && readyAfterMs === undefined; i++) await new Promise((r) => setTimeout(r, 10));

  return {
    kind: opts.kind,
    pid: child.pid!,
    origin,
    port: opts.port,
    healthyAfterMs,
    readyAfterMs,
    logFile,
    child,
    async stop() {
      if (exited === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}
