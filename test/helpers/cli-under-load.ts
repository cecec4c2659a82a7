// The admin CLI as operators use it — writing the database while a live
// server serves tokens — driven hard: a real server process, parallel
// jwt-bearer token loops against it, and CLI processes one after another.
// Shared by the bounded tests (test/cli/cli-under-load.test.ts) and the full
// proof (scripts/cli-under-load.ts).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importJWK, SignJWT, type JWK } from 'jose';
import { loadConfig } from '../../src/config/env.ts';
import { openRuntime } from '../../src/runtime.ts';
import { createTestDatabase, freePort, testEnv, type TestDatabase } from './server.ts';
import { ensureBuilt as buildIfStale, startArgs } from '../../scripts/build.mjs';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The latchkey-admin bin (package.json): dist/cli/index.js under plain node. */
export const adminBin = join(repoRoot, 'bin', 'latchkey-admin.mjs');

let built = false;
/**
 * Builds dist/ once per test process when src/ changed (scripts/build.mjs,
 * under a lock that parallel test files share), so that the processes a test
 * starts run what `npm start` and the bin run, and none of them builds.
 */
export function ensureBuilt(): void {
  if (built) return;
  buildIfStale();
  built = true;
}
const API = 'https://api.load.test';

export interface CliRun {
  args: string[];
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** One CLI process, as `npx latchkey-admin` starts it but without npm in between (npm adds a few tenths of a second per command). */
export function runCli(env: Record<string, string>, args: string[], opts: { input?: string; cwd?: string } = {}): Promise<CliRun> {
  ensureBuilt();
  const started = performance.now();
  return new Promise((done) => {
    const child = execFile(process.execPath, [adminBin, ...args], { cwd: opts.cwd ?? repoRoot, env, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: string }) | null;
      done({ args, code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr, ms: performance.now() - started });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/**
 * The arguments of node that start the server as `npm start` does (its node
 * flags, dist/server.js), dist/ built first. A server process started this
 * way costs about a second of CPU to come up, not the ~3.5 s of compiling
 * src/ through tsx at every start.
 */
export function serverArgs(): string[] {
  ensureBuilt();
  return startArgs();
}

/** A Latchkey server process (dist/server.js, as `npm start` runs it) on a database of its own. */
export interface LiveServer {
  issuer: string;
  env: Record<string, string>;
  /** The server's stdout and stderr so far. */
  output(): string;
  stop(): Promise<number | null>;
}

export async function startServerProcess(extra: Record<string, string> = {}): Promise<LiveServer> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-load-'));
  const port = await freePort();
  const database: TestDatabase = await createTestDatabase(dir);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    ...testEnv(dir, port, { DATABASE_URL: database.url, LOG_LEVEL: 'warn', ...extra }),
  };
  const child: ChildProcess = spawn(process.execPath, serverArgs(), {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 120_000;
  while (!out.includes('Latchkey is running')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`server did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    issuer: env.ISSUER!,
    env,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

export interface ServiceAccountKey {
  clientId: string;
  key: JWK;
}

/** What the writes act on: an API, two key service accounts (one stays enabled), API keys to revoke. */
export interface LoadFixture {
  steady: ServiceAccountKey;
  toggled: ServiceAccountKey;
  apiKeyIds: string[];
}

/** Made in-process through the services (as bench/setup.ts does): CLI processes here are what is measured, not set-up. */
export async function createFixture(server: LiveServer, apiKeys: number): Promise<LoadFixture> {
  const rt = await openRuntime(loadConfig(server.env));
  try {
    await rt.resources.create({ identifier: API, scope: 'load.read load.write', format: 'jwt' });
    const account = async (name: string): Promise<ServiceAccountKey> => {
      const { account, privateJwk } = await rt.serviceAccounts.create({ name, scope: 'load.read', generateKey: 'ES256' });
      return { clientId: account.clientId, key: privateJwk! };
    };
    const steady = await account('steady');
    const toggled = await account('toggled');
    const apiKeyIds: string[] = [];
    for (let i = 0; i < apiKeys; i++) {
      const { record } = await rt.apiKeys.create({ owner: { clientId: steady.clientId }, name: `key ${i}`, scope: 'load.read', resource: API, expires: '30d' });
      apiKeyIds.push(record.id);
    }
    return { steady, toggled, apiKeyIds };
  } finally {
    await rt.close();
  }
}

export interface TokenTally {
  requests: number;
  byStatus: Record<string, number>;
  /** The first few 5xx answers and network errors, as received. */
  failures: string[];
}

/** One jwt-bearer request: a fresh assertion each time (they are single-use). */
async function tokenRequest(issuer: string, account: ServiceAccountKey): Promise<{ status: number; body: string }> {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ iss: account.clientId, sub: account.clientId, aud: `${issuer}/token`, iat: now, exp: now + 60, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: account.key.kid })
    .sign(await importJWK(account.key, 'ES256'));
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, resource: API, scope: 'load.read' }),
  });
  return { status: res.status, body: await res.text() };
}

/**
 * `loops` token loops at full speed until `stop` is called, alternating the
 * steady account (always 200) and the toggled one (200, or 400 while disabled).
 */
export function tokenLoops(issuer: string, fixture: LoadFixture, loops: number) {
  const tally: TokenTally = { requests: 0, byStatus: {}, failures: [] };
  let running = true;
  const loop = async (n: number) => {
    for (let i = n; running; i++) {
      let status: string;
      let body = '';
      try {
        const r = await tokenRequest(issuer, i % 2 ? fixture.toggled : fixture.steady);
        status = String(r.status);
        body = r.body;
      } catch (err) {
        status = 'network';
        body = (err as Error).message;
      }
      tally.requests++;
      tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
      if ((status.startsWith('5') || status === 'network') && tally.failures.length < 10) tally.failures.push(`${status} ${body.slice(0, 300)}`);
    }
  };
  const all = Array.from({ length: loops }, (_, n) => loop(n));
  return {
    tally,
    async stop(): Promise<TokenTally> {
      running = false;
      await Promise.all(all);
      return tally;
    },
  };
}

/** The CLI writes the issue names, in turn: disable, enable, client create, key revoke. */
export function writeCommands(fixture: LoadFixture, count: number): string[][] {
  const keys = [...fixture.apiKeyIds];
  const commands: string[][] = [];
  for (let i = 0; commands.length < count; i++) {
    const step = i % 4;
    if (step === 0) commands.push(['service-account', 'disable', fixture.toggled.clientId, '--json']);
    else if (step === 1) commands.push(['service-account', 'enable', fixture.toggled.clientId, '--json']);
    else if (step === 2) commands.push(['client', 'create', '--name', `app ${i}`, '--redirect-uri', 'https://app.load.test/cb', '--json']);
    else {
      const key = keys.shift();
      if (key) commands.push(['api-key', 'revoke', key, '--json']);
    }
  }
  return commands;
}

/** Enough API keys for `count` writes (one revoke in four). */
export const apiKeysFor = (count: number) => Math.ceil(count / 4);

/**
 * Busy loops in child processes: a machine with no idle core. At `nice` 19
 * they take only the cycles nothing else wants: no core is idle, yet the rest
 * of a test suite running beside them is not slowed (the password threads,
 * themselves at nice 19, still share their cores with the loops).
 */
export function burnCpu(processes: number, opts: { nice?: number } = {}): { stop(): void } {
  const children = Array.from({ length: processes }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  if (opts.nice) for (const c of children) if (c.pid) setPriority(c.pid, opts.nice);
  return {
    stop() {
      for (const c of children) c.kill('SIGKILL');
    },
  };
}

/** One line per run, for reports. */
export const describeRun = (r: CliRun) =>
  `${r.args.slice(0, 2).join(' ')} → ${r.signal ?? r.code} in ${Math.round(r.ms)} ms` +
  `${r.code === 0 ? '' : `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`}`;
