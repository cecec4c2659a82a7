// `npm run bench`: starts what it needs (fresh databases, Latchkey, the
// baseline), runs every scenario at each concurrency, prints the table and
// the issue's targets, writes JSON and Markdown under bench/results/, and
// stops everything it started. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { loadConfig } from '../src/config/env.ts';
import { cliMarkdown, cliTargets, cliText, measureCli, type CliResult } from './cli.ts';
import { cryptoFloor, postgresInsertFloor, type FloorRow } from './crypto-floor.ts';
import { newTally, runClosedLoop, runSlice, statsOf } from './load.ts';
import { loginStorm } from './login-storm.ts';
import { insertSessionsAndGrants } from './memory.ts';
import { startPostgres, type BenchPostgres } from './postgres.ts';
import { cpuMs, peakRssMb, pin, processTreeCpuMs, resetPeakRss, rssMb } from './proc-stats.ts';
import { evaluateTargets, floorText, markdown, targetsText, textTable, type MemoryResult, type ResultRow, type StormResult } from './report.ts';
import { SCENARIOS, scenarioSet, type ScenarioName, type Target } from './scenarios.ts';
import { ensureBuilt } from '../scripts/build.mjs';
import { freePort, repoRoot, spawnServer, type ServerHandle } from './servers.ts';
import { baselineFixture, setUpLatchkey, type Fixture } from './setup.ts';

const EXTRA_CHECKS = ['login-storm', 'memory', 'cli'] as const;
const ALL = [...SCENARIOS.map((s) => s.name), ...EXTRA_CHECKS];

const USAGE = `npm run bench -- [options]
  --quick                 concurrency 8 only, 3 s per scenario (for development)
  --scenario NAME         repeatable; default all: ${ALL.join(', ')}
  --concurrency 1,8,32    concurrency levels (default 1,8,32)
  --duration SECONDS      measured seconds per scenario and level (default 5)
  --warmup SECONDS        unmeasured warm-up per scenario and server (default 6)
  --slice SECONDS         the servers measure in turns, this long each, until each has run --duration (default 1;
                          0: each its whole --duration at once, as before stop 50)
  --db sqlite|postgres|both   (default both)
  --env KEY=VALUE         repeatable; Latchkey's (and the baseline's) environment, e.g. RATE_LIMIT_TOKEN=off
  --no-rate-limits        shorthand for every RATE_LIMIT_*=off
  --no-baseline           skip the bare oidc-provider baseline
  --no-pin                do not pin the servers to CPU 0 and the load generator to CPU 1
  --stored-rows N         sessions (and as many grants) stored for the memory check (default 100000)
  --cpu-prof DIR          run Latchkey and the baseline under node --cpu-prof, profiles into DIR (numbers then include the profiler)
  --node-flag=FLAG        repeatable; a node flag for Latchkey's servers, e.g. --node-flag=--trace-gc-nvp (output in the server logs)
  --compare DIR           also run the Latchkey built in checkout DIR (npm run build there), as latchkey/sqlite-b on a copy of
                          the SQLite database, in the same turns: an A/B of two builds on one machine at one time
  --keep-logs             keep the server logs (and the SQLite files) when the run succeeds; the path is printed at the end
  --cli-runs N            runs of each admin CLI command in the cli scenario (default 10)
  --unsafe-pg             PostgreSQL with fsync=off, as the test suite runs it (default: fsync and synchronous_commit on, as in production)
  --pg-core other|server  the core PostgreSQL runs on when pinned: the load generator's (default; in production the
                          database is another machine's) or the server's (every run before stop 35)`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      slice: { type: 'string' },
      compare: { type: 'string' },
      db: { type: 'string', default: 'both' },
      env: { type: 'string', multiple: true },
      'no-rate-limits': { type: 'boolean', default: false },
      'no-baseline': { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      'stored-rows': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'node-flag': { type: 'string', multiple: true },
      'keep-logs': { type: 'boolean', default: false },
      'cli-runs': { type: 'string' },
      'unsafe-pg': { type: 'boolean', default: false },
      'pg-core': { type: 'string', default: 'other' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const fail = (msg: string): never => {
    console.error(`bench: ${msg}\n${USAGE}`);
    process.exit(2);
  };
  const scenarios = values.scenario ?? ALL;
  for (const s of scenarios) if (!ALL.includes(s)) fail(`unknown scenario ${s}`);
  if (!['sqlite', 'postgres', 'both'].includes(values.db!)) fail('--db must be sqlite, postgres or both');
  if (!['other', 'server'].includes(values['pg-core']!)) fail('--pg-core must be other or server');
  const levels = (values.concurrency ?? (values.quick ? '8' : '1,8,32')).split(',').map(Number);
  if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) fail('--concurrency takes whole numbers from 1 to 256');
  if (!(Number(values.slice ?? 1) >= 0)) fail('--slice takes a number of seconds (0: no slices)');
  if (values.compare && values.db === 'postgres') fail('--compare runs the other build on SQLite: use --db sqlite or both');
  const env: Record<string, string> = {};
  if (values['no-rate-limits']) for (const k of ['LOGIN', 'CODE', 'TOKEN', 'INTROSPECTION', 'FAILURES', 'ACCOUNT', 'AUTHORIZE']) env[`RATE_LIMIT_${k}`] = 'off';
  for (const kv of values.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) fail(`--env takes KEY=VALUE, not ${kv}`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    quick: values.quick!,
    scenarios,
    levels,
    durationS: Number(values.duration ?? (values.quick ? 3 : 5)),
    warmupS: Number(values.warmup ?? 6),
    sliceS: Number(values.slice ?? 1),
    compare: values.compare,
    dbs: (values.db === 'both' ? ['sqlite', 'postgres'] : [values.db]) as ('sqlite' | 'postgres')[],
    env,
    baseline: !values['no-baseline'],
    pin: !values['no-pin'] && os.cpus().length >= 2,
    storedRows: Number(values['stored-rows'] ?? 100_000),
    cpuProf: values['cpu-prof'],
    nodeFlags: [...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []), ...(values['node-flag'] ?? [])],
    keepLogs: values['keep-logs']!,
    cliRuns: Number(values['cli-runs'] ?? 10),
    durablePg: !values['unsafe-pg'],
    pgCore: values['pg-core'] as 'other' | 'server',
  };
}

const opts = options();
const startedAt = new Date();
const t0 = performance.now();
const say = (msg: string) => {
  const s = Math.round((performance.now() - t0) / 1000);
  console.error(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${msg}`);
};

const SERVER_CPU = '0';
const LOAD_CPU = '1';
if (opts.pin) pin(process.pid, LOAD_CPU);
// PostgreSQL beside the load generator by default: a production node's
// database is another machine, whose work is not the node's. On the server's
// core (--pg-core server) it also takes that core's time and makes every
// statement a context switch on it.
const PG_CPU = opts.pgCore === 'server' ? SERVER_CPU : LOAD_CPU;
const PLACEMENT = opts.pin
  ? `servers pinned to CPU ${SERVER_CPU}, load generator to CPU ${LOAD_CPU}${opts.dbs.includes('postgres') ? `, PostgreSQL to CPU ${PG_CPU}` : ''}`
  : 'not pinned';

const tmp = mkdtempSync(join(os.tmpdir(), 'latchkey-bench-'));
const kek = randomBytes(32).toString('base64');
const BENCH_METRICS_TOKEN = randomBytes(24).toString('base64url');
// The login storm (bench/login-storm.ts) reads it to scrape /metrics.
process.env.BENCH_METRICS_TOKEN = BENCH_METRICS_TOKEN;
// Shared by Latchkey and the baseline (which reads TTLs, bcrypt cost and
// clock skew through the same loadConfig). LOG_LEVEL=warn: at info, the
// one-line-per-request log would be a good part of what is measured.
const baseEnv = (port: number, extra: Record<string, string> = {}): Record<string, string> => ({
  NODE_ENV: 'test',
  PORT: String(port),
  HOST: '127.0.0.1',
  // The load generator's Host header is 127.0.0.1:PORT: the issuer must match it.
  ISSUER: `http://127.0.0.1:${port}`,
  LATCHKEY_KEY_ENCRYPTION_KEY: kek,
  LOG_LEVEL: 'warn',
  // Metrics on the main listener behind a token (the login storm reads the
  // event loop's delay there), so that no second port is needed.
  METRICS_PORT: String(port),
  METRICS_TOKEN: BENCH_METRICS_TOKEN,
  ...extra,
  ...opts.env,
});
const config = loadConfig(baseEnv(3000, { DATABASE_URL: 'file:/dev/null' }));

/** The last commit that changed the server (src, prisma, views), plus "+uncommitted" when the tree differs from it. */
function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['log', '-1', '--format=%h', '--', 'src', 'prisma', 'views'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'prisma', 'views'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    return dirty ? `${sha}+uncommitted` : sha;
  } catch {
    return 'unknown';
  }
}

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  os: `${os.type()} ${os.release()}`,
  commit: gitCommit(),
  benchCommit: (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })(),
  loadAvgAtStart: os.loadavg(),
  pinned: opts.pin ? { servers: SERVER_CPU, loadGenerator: LOAD_CPU, ...(opts.dbs.includes('postgres') ? { postgres: PG_CPU } : {}) } : false,
};

const rows: ResultRow[] = [];
const storms: StormResult[] = [];
const memory: MemoryResult[] = [];
const cli: CliResult[] = [];
let floor: FloorRow[] = [];
const want = (name: string) => opts.scenarios.includes(name);
const loadScenarios = SCENARIOS.map((s) => s.name).filter(want) as ScenarioName[];

/** A server under load: its target, its scenarios' state, and PostgreSQL's postmaster when it has one. */
interface Bench {
  target: Target;
  server: ServerHandle;
  set: ReturnType<typeof scenarioSet>;
  pgPid?: () => number;
}

function bench(target: Target, server: ServerHandle, pgPid?: () => number): Bench {
  return { target, server, set: scenarioSet(target), pgPid };
}

/** A measurement under way: one scenario at one concurrency on one server, run in slices, then its row. */
interface Measurement {
  slice(ms: number): Promise<void>;
  row(): ResultRow;
}

/** One scenario at one concurrency on one server: prepared now, measured slice by slice (in its turns), then a row. */
async function startMeasurement(b: Bench, name: ScenarioName, c: number): Promise<Measurement> {
  const { target, server, set, pgPid } = b;
  const unit = SCENARIOS.find((s) => s.name === name)!.unit;
  const prepared = await set.prepare(name, c, opts.durationS);
  const tally = newTally();
  let [serverCpuMs, clientCpuUs] = [0, 0];
  let perRun: boolean | undefined;
  /** PostgreSQL's CPU when the first slice began: what it does for a slice, it may finish in another server's (its WAL writer, checkpoints). */
  let db0: number | undefined;
  return {
    async slice(ms) {
      // Unmeasured: the server was stopped while the others took their turns, long enough for idle sockets to close.
      await refillPool(b, c);
      if (perRun === undefined) perRun = resetPeakRss(server.pid);
      if (pgPid && db0 === undefined) db0 = processTreeCpuMs(pgPid());
      const cpu0 = cpuMs(server.pid);
      const client0 = process.cpuUsage();
      await runSlice(prepared.workers, ms, tally);
      const client = process.cpuUsage(client0);
      serverCpuMs += cpuMs(server.pid) - cpu0;
      clientCpuUs += client.user + client.system;
    },
    row() {
      // PostgreSQL serves no other server: its CPU from this measurement's first slice to the last slice of all of them.
      const dbCpuMs = pgPid && db0 !== undefined ? processTreeCpuMs(pgPid()) - db0 : undefined;
      const stats = statsOf(tally, c);
      set.observed(name, stats.rps);
      const row: ResultRow = {
        scenario: name,
        unit,
        db: target.db,
        target: target.kind,
        concurrency: c,
        stats,
        serverCpuMs,
        cpuMsPerOp: serverCpuMs / Math.max(1, stats.completed),
        opsPerCpuS: stats.ok / (serverCpuMs / 1000),
        peakRssMb: peakRssMb(server.pid),
        peakIsPerRun: perRun ?? false,
        dbCpuMsPerOp: dbCpuMs === undefined ? undefined : dbCpuMs / Math.max(1, stats.completed),
        clientCpuPct: (clientCpuUs / 1000 / (stats.elapsedS * 1000)) * 100,
        notes: prepared.notes(),
      };
      const errs = stats.errors
        ? `  errors ${stats.errors}: ${Object.entries(stats.errorKinds)
            .slice(0, 3)
            .map(([k, v]) => `${v}× ${k}`)
            .join('; ')}`
        : '';
      say(
        `${target.kind}/${target.db} ${name} c=${c}: ${stats.rps.toFixed(1)} ${unit}/s, p50 ${stats.p50Ms.toFixed(1)} p99 ${stats.p99Ms.toFixed(1)} ms, ` +
          `${row.cpuMsPerOp.toFixed(2)} ms CPU/op, RSS ${row.peakRssMb.toFixed(0)} MB, client CPU ${row.clientCpuPct.toFixed(0)}%${errs}`,
      );
      return row;
    },
  };
}

/** A signal to a server that may have exited already. */
function signal(pid: number, name: 'SIGSTOP' | 'SIGCONT' | 'SIGTERM') {
  try {
    process.kill(pid, name);
  } catch {
    // gone: nothing to stop or resume
  }
}

/** A server's turn: the others are stopped (SIGSTOP), so that their timers take none of the core (an idle Latchkey: 0.8 %). */
async function turn(benches: Bench[], b: Bench, run: () => Promise<void>) {
  for (const other of benches) signal(other.server.pid, other === b ? 'SIGCONT' : 'SIGSTOP');
  await run();
}

/**
 * A server stopped for longer than its PostgreSQL pool's idle timeout (10 s)
 * closes every connection as it resumes, and a run's preparation (logins,
 * code flows) can leave most of them idle that long too; the load
 * generator's own keep-alive sockets close after 3 s idle (the server's 5 s
 * keep-alive, less undici's margin), and a server waits longer than that
 * between its slices: `c` readiness checks at once, unmeasured, open them
 * again just before each slice. In a block, one run followed another within
 * seconds, and the pool stayed open.
 */
async function refillPool(b: Bench, c: number) {
  await Promise.all(
    Array.from({ length: c }, () =>
      b.target.pool.request({ method: 'GET', path: '/readyz', headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } }).then((r) => r.body.dump()),
    ),
  );
}

/**
 * The slices of one measurement, in milliseconds: --duration cut into --slice
 * pieces (one piece with --slice 0). With --compare their number is rounded
 * up to a multiple of twice the servers taking turns (`servers`), so that
 * every order of inTurn comes up equally often.
 */
function slices(servers: number): number[] {
  let n = opts.sliceS > 0 ? Math.max(1, Math.round(opts.durationS / opts.sliceS)) : 1;
  if (opts.compare && n > 1) n = Math.ceil(n / (2 * servers)) * 2 * servers;
  return Array.from({ length: n }, () => (opts.durationS * 1000) / n);
}

/**
 * The order of the servers' turns in slice `i`. In a fixed order two builds
 * compared with --compare measured about 3 % apart, whichever build went
 * last (bench/README.md, "Stop 52"). With --compare the order is each
 * rotation of the list, then each rotation of it reversed (2n slices for n
 * servers): every server takes every place equally often, and every server
 * comes right after every other equally often. Without --compare the order
 * is the same in every slice, as in every run before.
 */
function inTurn(on: Bench[], i: number): Bench[] {
  if (!opts.compare) return on;
  const list = Math.floor(i / on.length) % 2 === 0 ? on : [...on].reverse();
  const k = i % on.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/**
 * Every load scenario on every server, interleaved: for each scenario and
 * concurrency the servers take their turns one after another, seconds
 * apart. A ratio (Latchkey ÷ baseline, PostgreSQL ÷ SQLite) then compares
 * runs made in the same minute of this machine, whose speed moves by up to
 * 2× within minutes (bench/README.md, "Stop 44"); until stop 44 each server
 * ran all its scenarios in a block, 4 to 10 minutes from the others'. Since
 * stop 50 each measurement is cut into slices (--slice, 1 s), and the
 * servers take turns slice by slice: each row adds up its slices, so a slow
 * stretch of the machine falls on every server of a ratio alike.
 */
async function runScenarios(benches: Bench[]) {
  for (const name of loadScenarios) {
    const info = SCENARIOS.find((s) => s.name === name)!;
    const on = benches.filter((b) => !(info.latchkeyOnly && b.target.kind === 'baseline'));
    if (opts.warmupS > 0) {
      const c = Math.min(8, Math.max(...opts.levels));
      for (const b of on) {
        await turn(benches, b, async () => {
          const w = await b.set.prepare(name, c, opts.warmupS);
          b.set.observed(name, (await runClosedLoop(w.workers, opts.warmupS * 1000)).rps);
        });
      }
    }
    for (const c of opts.levels) {
      const measuring = new Map<Bench, Measurement>();
      for (const b of on) await turn(benches, b, async () => void measuring.set(b, await startMeasurement(b, name, c)));
      for (const [i, ms] of slices(on.length).entries()) for (const b of inTurn(on, i)) await turn(benches, b, () => measuring.get(b)!.slice(ms));
      for (const b of on) rows.push(measuring.get(b)!.row());
    }
  }
  if (want('login-storm'))
    for (const b of benches)
      await turn(benches, b, async () => {
        await refillPool(b, 8);
        await runStorm(b);
      });
  for (const b of benches) signal(b.server.pid, 'SIGCONT');
}

/** The login storm on one server (after the load scenarios, which it would disturb). */
async function runStorm({ target, server, set }: Bench) {
  say(`${target.kind}/${target.db}: login storm`);
  const s = await loginStorm(target, set, server.pid, { durationMs: opts.durationS * 1000, tokenConcurrency: 8, loginWorkers: 8 });
  storms.push(s);
  say(
    `${target.kind}/${target.db} login storm: token p99 ${s.quiet.p99Ms.toFixed(1)} → ${s.storm.p99Ms.toFixed(1)} ms, ` +
      `${s.logins.perS.toFixed(1)} logins/s (${s.logins.errors} errors), ` +
      `/healthz p50 ${s.probeQuietP50Ms!.toFixed(1)} → ${s.probeStormP50Ms!.toFixed(1)} ms, ` +
      `p99 ${s.probeQuietP99Ms.toFixed(1)} → ${s.probeStormP99Ms.toFixed(1)} ms` +
      `${s.eventLoopDelayStorm ? `, event-loop delay max ${s.eventLoopDelayQuiet?.maxMs.toFixed(1)} → ${s.eventLoopDelayStorm.maxMs.toFixed(1)} ms` : ''}`,
  );
}

function makeTarget(kind: Target['kind'], db: Target['db'], server: ServerHandle, fixture: Fixture): Target {
  // Enough connections for the largest level plus the storm's login workers.
  const pool = new Pool(server.origin, { connections: Math.max(...opts.levels, 8) + 16, pipelining: 1, keepAliveTimeout: 30_000 });
  return { kind, db, origin: server.origin, pool, fixture };
}

async function memoryCheck(db: 'sqlite' | 'postgres', databaseUrl: string, dir: string, fixture: Fixture): Promise<MemoryResult> {
  say(`${db}: storing ${opts.storedRows} sessions and ${opts.storedRows} grants`);
  const inserted = await insertSessionsAndGrants(databaseUrl, opts.storedRows);
  say(`${db}: ${inserted.inserted} rows in ${inserted.seconds.toFixed(1)} s; start-up on the existing database`);
  let server: ServerHandle | undefined;
  /** Three start-ups on `cpus`, each after stopping the one before; the last stays up. */
  const startThrice = async (cpus: string | undefined): Promise<MemoryResult['startups']> => {
    const times: MemoryResult['startups'] = [];
    for (let i = 0; i < 3; i++) {
      await server?.stop();
      const port = await freePort();
      server = await spawnServer({
        kind: 'latchkey',
        env: baseEnv(port, { DATABASE_URL: databaseUrl, DATA_DIR: dir }),
        port,
        logDir: tmp,
        cpus,
        nodeFlags: opts.nodeFlags,
      });
      times.push({ healthyMs: server.healthyAfterMs, readyMs: server.readyAfterMs });
    }
    return times;
  };
  // First on every core, as a server starts on a machine; then on the servers' one core, as every run
  // before stop 27 measured it (the last of those serves the requests below).
  const startupsEveryCore = opts.pin ? await startThrice(`0-${os.cpus().length - 1}`) : [];
  const startups = await startThrice(opts.pin ? SERVER_CPU : undefined);
  const rssAtStartMb = rssMb(server!.pid);
  const runtimeStartMs = Math.min(
    ...[0, 1, 2].map(() => {
      const s = performance.now();
      execFileSync(process.execPath, ['--eval', '0'], { cwd: repoRoot, stdio: 'ignore' });
      return performance.now() - s;
    }),
  );
  const target = makeTarget('latchkey', db, server!, fixture);
  const set = scenarioSet(target);
  let requestsMade = 0;
  for (const name of ['sso-flow', 'refresh-rs256', 'jwt-bearer', 'client-credentials', 'introspection', 'userinfo', 'jwks', 'discovery'] as ScenarioName[]) {
    const p = await set.prepare(name, 8, 1);
    requestsMade += (await runClosedLoop(p.workers, 1000)).completed;
  }
  const result: MemoryResult = {
    db,
    storedRows: { sessions: opts.storedRows, grants: opts.storedRows },
    insertSeconds: inserted.seconds,
    startups,
    ...(startupsEveryCore.length ? { startupsEveryCore } : {}),
    runtimeStartMs,
    rssAtStartMb,
    rssAfterRequestsMb: rssMb(server!.pid),
    // Since the process started: the whole start-up and every request after it.
    peakRssMb: peakRssMb(server!.pid),
    requestsMade,
  };
  await target.pool.close();
  await server!.stop();
  say(
    `${db}: start-up ${startups.map((s) => (s.healthyMs / 1000).toFixed(2)).join(', ')} s` +
      (startupsEveryCore.length ? ` (every core: ${startupsEveryCore.map((s) => (s.healthyMs / 1000).toFixed(2)).join(', ')} s)` : '') +
      '; ' +
      `RSS ${result.rssAtStartMb.toFixed(0)} MB at start, peak ${result.peakRssMb.toFixed(0)} MB after ${requestsMade} requests`,
  );
  return result;
}

let postgres: BenchPostgres | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

/** --compare: the other checkout's build, on a copy of the set-up SQLite database (its files and key folder), before either server opens it. */
async function compared(dir: string, fixture: Fixture): Promise<Bench> {
  const root = resolve(opts.compare!);
  if (!existsSync(join(root, 'dist', 'server.js')))
    throw new Error(`--compare ${opts.compare}: no dist/server.js there; run npm run build in that checkout first`);
  // This checkout's build first: with --compare naming this checkout too, both servers then run the same build.
  ensureBuilt();
  const commit = execFileSync('git', ['-C', root, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim().slice(0, 80);
  const copy = `${dir}-b`;
  cpSync(dir, copy, { recursive: true });
  const port = await freePort();
  const server = await spawnServer({
    kind: 'latchkey',
    root,
    env: baseEnv(port, { DATABASE_URL: `file:${join(copy, 'latchkey.db')}`, DATA_DIR: copy }),
    port,
    logDir: tmp,
    cpus: opts.pin ? SERVER_CPU : undefined,
    nodeFlags: opts.nodeFlags,
  });
  cleanups.push(() => server.stop());
  say(
    `latchkey/sqlite-b (${opts.compare}: ${commit}; started with this checkout's node flags) on ${server.origin}, ` +
      `pid ${server.pid}, healthy after ${(server.healthyAfterMs / 1000).toFixed(2)} s`,
  );
  return bench(makeTarget('latchkey', 'sqlite-b', server, fixture), server);
}

async function main() {
  const limits = Object.entries(config.rateLimits)
    .map(([k, v]) => `${k}=${v ? `${v.points}/${v.seconds}` : 'off'}`)
    .join(' ');
  say(
    `Latchkey bench: ${opts.dbs.join(' + ')}, concurrency ${opts.levels.join(',')}, ${opts.durationS} s per run; ` +
      `rate limits ${limits}; bcrypt cost ${config.bcryptCost}; ${PLACEMENT}`,
  );
  if (config.rateLimits.token || config.rateLimits.introspection || config.rateLimits.login) {
    say(
      "note: rate limits are on (the server's defaults): expect 429s in the scenarios they cover, and set-up steps waiting them out. " +
        "The README's tables use --env RATE_LIMIT_TOKEN=off --env RATE_LIMIT_INTROSPECTION=off --env RATE_LIMIT_LOGIN=off.",
    );
  }
  say('cryptographic floor');
  floor = await cryptoFloor(config.bcryptCost, opts.quick);

  // Every server comes up first, then takes its turns (runScenarios).
  const benches: Bench[] = [];
  if (opts.baseline && (loadScenarios.length || want('login-storm'))) {
    const fixture = await baselineFixture();
    const file = join(tmp, 'baseline-fixture.json');
    writeFileSync(file, JSON.stringify(fixture));
    const port = await freePort();
    const server = await spawnServer({
      kind: 'baseline',
      env: baseEnv(port, { DATABASE_URL: 'file:/dev/null', BASELINE_FIXTURE: file }),
      port,
      logDir: tmp,
      cpus: opts.pin ? SERVER_CPU : undefined,
      // Profiled too, so that a profile of Latchkey has the bare library's beside it.
      nodeFlags: opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : undefined,
    });
    cleanups.push(() => server.stop());
    say(`baseline (bare oidc-provider, in-memory) on ${server.origin}, pid ${server.pid}`);
    benches.push(bench(makeTarget('baseline', 'memory', server, fixture), server));
  }

  const databases: { db: 'sqlite' | 'postgres'; databaseUrl: string; dir: string; env: Record<string, string>; fixture: Fixture; drop: () => Promise<void> }[] =
    [];
  for (const db of opts.dbs) {
    const dir = join(tmp, db);
    mkdirSync(dir, { recursive: true });
    let databaseUrl: string;
    let drop = async () => {};
    if (db === 'sqlite') {
      databaseUrl = `file:${join(dir, 'latchkey.db')}`;
    } else {
      postgres ??= startPostgres(opts.pin ? PG_CPU : undefined, opts.durablePg);
      const created = await postgres.createDatabase();
      databaseUrl = created.url;
      drop = created.drop;
      floor.push(await postgresInsertFloor(databaseUrl, opts.quick, opts.durablePg));
    }
    const port = await freePort();
    const env = baseEnv(port, { DATABASE_URL: databaseUrl, DATA_DIR: dir });
    say(`${db}: setting up (migrations, clients, service account, ${8} people)`);
    const fixture = await setUpLatchkey(env);
    databases.push({ db, databaseUrl, dir, env, fixture, drop });
    if (!loadScenarios.length && !want('login-storm')) continue;
    if (db === 'sqlite' && opts.compare) benches.push(await compared(dir, fixture));
    const server = await spawnServer({
      kind: 'latchkey',
      env,
      port,
      logDir: tmp,
      cpus: opts.pin ? SERVER_CPU : undefined,
      nodeFlags: opts.nodeFlags,
    });
    cleanups.push(() => server.stop());
    say(`latchkey/${db} on ${server.origin}, pid ${server.pid}, healthy after ${(server.healthyAfterMs / 1000).toFixed(2)} s`);
    const pg = postgres;
    benches.push(bench(makeTarget('latchkey', db, server, fixture), server, db === 'postgres' && pg ? () => pg.postmasterPid() : undefined));
  }

  // A stopped server would not hear the stop at the end of a failed run, nor
  // the terminal's Ctrl-C (which ends the bench without its `finally`).
  const resumeAll = () => {
    for (const b of benches) signal(b.server.pid, 'SIGCONT');
  };
  cleanups.push(resumeAll);
  for (const name of ['SIGINT', 'SIGTERM'] as const)
    process.once(name, () => {
      resumeAll();
      for (const b of benches) signal(b.server.pid, 'SIGTERM');
      postgres?.stop();
      process.exit(130);
    });
  await runScenarios(benches);
  for (const { target, server } of benches) {
    await target.pool.close();
    await server.stop();
  }

  for (const { db, databaseUrl, dir, env, fixture, drop } of databases) {
    if (want('cli')) {
      say(`${db}: admin CLI, ${opts.cliRuns} runs of each command`);
      const measured = await measureCli(db, env, fixture, opts.cliRuns);
      cli.push(...measured);
      say(`${db}: admin CLI\n${cliText(measured)}`);
    }
    if (want('memory')) memory.push(await memoryCheck(db, databaseUrl, dir, fixture));
    await drop();
  }
}

function report() {
  const finishedAt = new Date();
  // Tables by server (the runs were interleaved, runScenarios); a stable sort keeps each server's order.
  const servers = ['baseline/memory', 'latchkey/sqlite', 'latchkey/sqlite-b', 'latchkey/postgres'];
  rows.sort((a, b) => servers.indexOf(`${a.target}/${a.db}`) - servers.indexOf(`${b.target}/${b.db}`));
  const targets = [...evaluateTargets(rows, storms, memory, floor), ...cliTargets(cli)];
  const minutes = (performance.now() - t0) / 60_000;
  const header =
    `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${machine.cores} × ${machine.cpu}, ${machine.memoryGb} GB · ` +
    `Node ${machine.node} · commit ${machine.commit} · ${opts.levels.join('/')} workers × ${opts.durationS} s · ` +
    `${PLACEMENT} · env ${JSON.stringify(opts.env)} · ` +
    `${opts.dbs.includes('postgres') ? (opts.durablePg ? 'PostgreSQL fsync=on synchronous_commit=on · ' : 'PostgreSQL fsync=off (--unsafe-pg) · ') : ''}` +
    `load average ${machine.loadAvgAtStart.map((l) => l.toFixed(1)).join(' ')} → ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} · ${minutes.toFixed(1)} min`;
  console.log(
    `\n${header}\n\n${textTable(rows)}\n\nTargets\n${targetsText(targets)}\n\nCryptographic floor (in-process, one core, sequential)\n${floorText(floor)}` +
      (cli.length ? `\n\nAdmin CLI (median of ${opts.cliRuns})\n${cliText(cli)}` : ''),
  );
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const base = join(dir, `${stamp}-${opts.dbs.length > 1 ? 'both' : opts.dbs[0]}`);
  const json = {
    machine: { ...machine, loadAvgAtEnd: os.loadavg() },
    options: opts,
    startedAt,
    finishedAt,
    minutes,
    floor,
    rows,
    storms,
    memory,
    cli,
    targets,
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${markdown(rows, targets, floor, storms, memory, header)}${cli.length ? `\n\n${cliMarkdown(cli)}` : ''}\n`);
  console.log(`\nwritten: ${base}.json and .md`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  postgres?.stop();
  // Server logs stay behind when something went wrong.
  if (exitCode === 0 && !opts.keepLogs) rmSync(tmp, { recursive: true, force: true });
  else console.error(`bench: server logs kept in ${tmp}`);
}
if (rows.length || memory.length || storms.length || cli.length) report();
process.exit(exitCode);
