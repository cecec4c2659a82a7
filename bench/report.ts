// Results: the rows every run produces, the issue's targets computed from
// them (ratios within one run), and the tables printed and written.
import type { FloorRow } from './crypto-floor.ts';
import type { LoadStats } from './load.ts';

/** `sqlite-b`: the build --compare names, on a copy of the SQLite database. */
export type Db = 'sqlite' | 'postgres' | 'memory' | 'sqlite-b';

export interface ResultRow {
  scenario: string;
  unit: string;
  db: Db;
  target: 'latchkey' | 'baseline';
  concurrency: number;
  stats: LoadStats;
  serverCpuMs: number;
  cpuMsPerOp: number;
  opsPerCpuS: number;
  /** Peak RSS during this run (VmHWM reset before it), MB. */
  peakRssMb: number;
  /** False when the peak could not be reset: then it is the peak since the server started. */
  peakIsPerRun: boolean;
  /** PostgreSQL's own CPU (postmaster and backends) during the run, ms per op. */
  dbCpuMsPerOp?: number;
  /** The load generator's CPU use during the run (100 = one core): it must not be the bottleneck. */
  clientCpuPct: number;
  notes: Record<string, number>;
}

export interface StormResult {
  db: Db;
  target: 'latchkey' | 'baseline';
  loginWorkers: number;
  tokenConcurrency: number;
  quiet: LoadStats;
  storm: LoadStats;
  logins: { ok: number; errors: number; perS: number; errorStatuses: Record<string, number> };
  /** /healthz probed every 20 ms: answers only when the event loop is free. */
  probeQuietP50Ms?: number;
  probeQuietP99Ms: number;
  probeStormP50Ms?: number;
  probeStormP99Ms: number;
  probeStormMaxMs: number;
  serverCpuPctDuringStorm: number;
  /** Event-loop delay over each window, from the server's own /metrics (Latchkey only). */
  eventLoopDelayQuiet?: { p50Ms: number; p99Ms: number; maxMs: number };
  eventLoopDelayStorm?: { p50Ms: number; p99Ms: number; maxMs: number };
}

export interface MemoryResult {
  db: Db;
  storedRows: { sessions: number; grants: number };
  insertSeconds: number;
  startups: { healthyMs: number; readyMs: number | undefined }[];
  /** The same start-ups on every core, as a server starts on a machine (the others run on the servers' one core). */
  startupsEveryCore?: { healthyMs: number; readyMs: number | undefined }[];
  /** `node` doing nothing, for scale: the part of a start-up no server code can save. */
  runtimeStartMs?: number;
  rssAtStartMb: number;
  rssAfterRequestsMb: number;
  peakRssMb: number;
  requestsMade: number;
}

export interface TargetRow {
  target: string;
  db: string;
  measured: number;
  goal: string;
  pass: boolean;
  detail: string;
}

const find = (rows: ResultRow[], scenario: string, db: Db, target: 'latchkey' | 'baseline', c: number) =>
  rows.find((r) => r.scenario === scenario && r.db === db && r.target === target && r.concurrency === c);

/** Single-figure targets use concurrency 8 (what --quick runs), else the highest measured. */
export function referenceConcurrency(rows: ResultRow[]): number {
  const levels = [...new Set(rows.map((r) => r.concurrency))];
  return levels.includes(8) ? 8 : Math.max(...levels);
}

export function baselineRatio(rows: ResultRow[], r: ResultRow): number | undefined {
  if (r.target !== 'latchkey') return undefined;
  const b = find(rows, r.scenario, 'memory', 'baseline', r.concurrency);
  return b && b.stats.rps > 0 ? r.stats.rps / b.stats.rps : undefined;
}

export function evaluateTargets(rows: ResultRow[], storms: StormResult[], memory: MemoryResult[], floor: FloorRow[]): TargetRow[] {
  const out: TargetRow[] = [];
  const ref = referenceConcurrency(rows);
  const levels = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  const dbs = [...new Set(rows.filter((r) => r.target === 'latchkey').map((r) => r.db))];
  const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

  // Throughput and tail latency against the library alone, on SQLite.
  for (const s of ['refresh-rs256', 'refresh-es256', 'jwt-bearer', 'client-credentials']) {
    for (const c of levels) {
      const l = find(rows, s, 'sqlite', 'latchkey', c);
      const b = find(rows, s, 'memory', 'baseline', c);
      if (!l || !b) continue;
      const rps = l.stats.rps / b.stats.rps;
      out.push({
        target: `${s} req/s vs baseline, c=${c}`,
        db: 'sqlite',
        measured: rps,
        goal: '≥ 0.75×',
        pass: rps >= 0.75,
        detail: `${fmt(l.stats.rps, 0)} vs ${fmt(b.stats.rps, 0)} req/s`,
      });
      const p99 = l.stats.p99Ms / b.stats.p99Ms;
      out.push({
        target: `${s} p99 vs baseline, c=${c}`,
        db: 'sqlite',
        measured: p99,
        goal: '≤ 2×',
        pass: p99 <= 2,
        detail: `${fmt(l.stats.p99Ms)} vs ${fmt(b.stats.p99Ms)} ms`,
      });
    }
  }

  // Requests per server CPU-second.
  // Issue 17: API-key introspection ≥ 3,000 on SQLite and ≥ 2,500 on PostgreSQL.
  const perCpu: [string, number, number?][] = [
    ['refresh-rs256', 700],
    ['refresh-es256', 1000],
    ['jwt-bearer', 1000],
    ['introspection', 3000],
    ['api-key-introspection', 3000, 2500],
  ];
  for (const db of dbs) {
    for (const [s, sqliteGoal, postgresGoal] of perCpu) {
      const goal = db === 'postgres' ? (postgresGoal ?? sqliteGoal) : sqliteGoal;
      const l = find(rows, s, db, 'latchkey', ref);
      if (!l) continue;
      const b = find(rows, s, 'memory', 'baseline', ref);
      out.push({
        target: `${s} req per server CPU-s, c=${ref}`,
        db,
        measured: l.opsPerCpuS,
        goal: `≥ ${goal}`,
        pass: l.opsPerCpuS >= goal,
        detail: `${fmt(l.cpuMsPerOp, 3)} ms CPU/req${b ? `; baseline ${fmt(b.opsPerCpuS, 0)}/CPU-s` : ''}`,
      });
    }
  }

  // PostgreSQL against SQLite, same machine, same run.
  // Issue 17: ≥ 0.7× at 8 workers and ≥ 1.0× at 32 (with fsync and synchronous_commit on).
  if (dbs.includes('sqlite') && dbs.includes('postgres')) {
    for (const s of [...new Set(rows.filter((r) => r.target === 'latchkey').map((r) => r.scenario))]) {
      for (const [c, goal] of [
        [ref, 0.7],
        [32, 1.0],
      ] as const) {
        const q = find(rows, s, 'sqlite', 'latchkey', c);
        const p = find(rows, s, 'postgres', 'latchkey', c);
        // A browser flow the per-address limits refused throughout (limits at their defaults: 0 vs 0
        // ops/s, its 429s in the scenario table) has nothing to compare; it printed as a MISS until stop 44.
        if (!q?.stats.ok || !p?.stats.ok) continue;
        const ratio = p.stats.rps / q.stats.rps;
        out.push({
          target: `${s} PostgreSQL/SQLite ops/s, c=${c}`,
          db: 'postgres',
          measured: ratio,
          goal: `≥ ${goal.toFixed(1)}×`,
          pass: ratio >= goal,
          detail: `${fmt(p.stats.rps, 1)} vs ${fmt(q.stats.rps, 1)}`,
        });
      }
    }
  }

  // Logins cannot starve the token endpoint, and bcrypt stays off the event loop.
  const bcryptMs = (floor.find((f) => f.name.startsWith('bcrypt'))?.usPerOp ?? NaN) / 1000;
  for (const s of storms.filter((x) => x.target === 'latchkey')) {
    const ratio = s.storm.p99Ms / s.quiet.p99Ms;
    out.push({
      target: `token p99 during a login storm vs quiet (client credentials c=${s.tokenConcurrency}, ${s.loginWorkers} login workers)`,
      db: s.db,
      measured: ratio,
      goal: '≤ 1.5×',
      pass: ratio <= 1.5,
      detail:
        `${fmt(s.storm.p99Ms)} vs ${fmt(s.quiet.p99Ms)} ms; ` +
        `${fmt(s.logins.perS, 1)} logins/s${s.logins.errors ? `, ${s.logins.errors} login errors` : ''}`,
    });
    // A bcrypt on the event loop would block it for a whole hash: the loop's
    // own delay monitor (Latchkey's /metrics) would see a maximum of at least
    // one bcrypt. Other synchronous work (SQLite statements run on the loop)
    // shows up there too, hence a margin below a whole hash. Without that monitor (older results), the /healthz probe's
    // median stands in: at the bcrypt limit a loop-bound bcrypt keeps the loop
    // blocked nearly all the time, so a probe would wait half a hash on
    // average; off the loop it waits only for its share of the core.
    const loop = s.eventLoopDelayStorm;
    const [label, measured, limit, goal] = loop
      ? ['longest event-loop delay', loop.maxMs, bcryptMs * 0.75, `< ¾ bcrypt (${fmt(bcryptMs * 0.75, 0)} ms)`]
      : ['/healthz median', s.probeStormP50Ms ?? s.probeStormP99Ms, bcryptMs / 4, `< ¼ bcrypt (${fmt(bcryptMs / 4, 0)} ms)`];
    out.push({
      target: `event loop never blocked for a bcrypt during the login storm: ${label}`,
      db: s.db,
      measured,
      goal,
      pass: measured < limit,
      detail:
        `${loop ? `loop delay p99 ${fmt(loop.p99Ms)} ms (quiet max ${fmt(s.eventLoopDelayQuiet?.maxMs ?? NaN)} ms); ` : ''}` +
        `/healthz p99 ${fmt(s.probeQuietP99Ms)} → ${fmt(s.probeStormP99Ms)} ms`,
    });
  }

  for (const m of memory) {
    out.push({
      target: 'RSS at start (compiled build)',
      db: m.db,
      measured: m.rssAtStartMb,
      goal: '≤ 120 MB',
      pass: m.rssAtStartMb <= 120,
      detail: `after the last of ${m.startups.length} start-ups on ${m.storedRows.sessions.toLocaleString('en')} sessions + grants`,
    });
    out.push({
      target: `RSS with ${m.storedRows.sessions.toLocaleString('en')} sessions + ${m.storedRows.grants.toLocaleString('en')} grants stored`,
      db: m.db,
      measured: m.peakRssMb,
      goal: '≤ 200 MB',
      pass: m.peakRssMb <= 200,
      detail: `peak after ${m.requestsMade} requests; ${fmt(m.rssAtStartMb, 0)} MB at start`,
    });
    const healthy = Math.min(...m.startups.map((s) => s.healthyMs)) / 1000;
    const ready = m.startups.map((s) => s.readyMs ?? NaN);
    out.push({
      target: 'start-up on an existing database (spawn → /healthz 200)',
      db: m.db,
      measured: healthy,
      goal: '≤ 0.8 s',
      pass: healthy <= 0.8,
      detail:
        `best of ${m.startups.length}: ${m.startups.map((s) => fmt(s.healthyMs / 1000)).join(', ')} s; ` +
        `ready line ${ready.map((r) => fmt(r / 1000)).join(', ')} s${m.runtimeStartMs ? `; node alone ${fmt(m.runtimeStartMs / 1000)} s` : ''}`,
    });
    if (m.startupsEveryCore?.length) {
      const best = Math.min(...m.startupsEveryCore.map((s) => s.healthyMs)) / 1000;
      out.push({
        target: 'start-up on an existing database, every core (spawn → /healthz 200)',
        db: m.db,
        measured: best,
        goal: '≤ 0.8 s',
        pass: best <= 0.8,
        detail:
          `best of ${m.startupsEveryCore.length}: ${m.startupsEveryCore.map((s) => fmt(s.healthyMs / 1000)).join(', ')} s ` +
          "(the row above: on the servers' one core)",
      });
    }
  }
  return out;
}

const pad = (s: string, n: number, right = false) => (right ? s.padStart(n) : s.padEnd(n));
const num = (n: number | undefined, d: number) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));

function errorsCell(r: ResultRow): string {
  if (!r.stats.errors) return '0';
  const by = Object.entries(r.stats.errorStatuses)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  return `${r.stats.errors} (${by})`;
}

const HEAD = [
  'scenario',
  'db',
  'target',
  'c',
  'ops/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'errors',
  'CPU ms/op',
  'ops/CPU-s',
  'server CPU %',
  'peak RSS MB',
  '×baseline',
  'PG CPU ms/op',
];

function cells(rows: ResultRow[], r: ResultRow): string[] {
  return [
    r.scenario,
    r.db,
    r.target,
    String(r.concurrency),
    num(r.stats.rps, 1),
    num(r.stats.p50Ms, 1),
    num(r.stats.p90Ms, 1),
    num(r.stats.p99Ms, 1),
    // Server CPU % well under 100 with the load generator idle too means the server was waiting (locks, I/O), not computing.
    errorsCell(r),
    num(r.cpuMsPerOp, 2),
    num(r.opsPerCpuS, 0),
    num(r.serverCpuMs / (r.stats.elapsedS * 10), 0),
    num(r.peakRssMb, 0),
    num(baselineRatio(rows, r), 2),
    num(r.dbCpuMsPerOp, 2),
  ];
}

export function textTable(rows: ResultRow[]): string {
  const data = rows.map((r) => cells(rows, r));
  const widths = HEAD.map((h, i) => Math.max(h.length, ...data.map((d) => d[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => pad(v, widths[i]!, i >= 3 && i !== 8)).join('  ');
  return [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...data.map(line)].join('\n');
}

export function targetsText(targets: TargetRow[]): string {
  return targets.map((t) => `${t.pass ? 'PASS' : 'MISS'}  [${t.db}] ${t.target}: ${num(t.measured, 2)} (goal ${t.goal}) — ${t.detail}`).join('\n');
}

export function floorText(floor: FloorRow[]): string {
  return floor.map((f) => `${f.name.padEnd(72)} ${num(f.usPerOp, 1).padStart(10)} µs/op ${num(f.opsPerS, 0).padStart(8)} ops/s`).join('\n');
}

const mdRow = (c: string[]) => `| ${c.join(' | ')} |`;

export function markdown(rows: ResultRow[], targets: TargetRow[], floor: FloorRow[], storms: StormResult[], memory: MemoryResult[], header: string): string {
  const parts = [header, '', '### Targets at a glance', '', mdRow(['target', 'goal', 'SQLite', 'PostgreSQL']), mdRow(['---', '---', '---:', '---:'])];
  // One line per target: the levels of a per-concurrency target side by side.
  const group = (t: TargetRow) => t.target.replace(/, c=\d+$/, '');
  const cell = (ts: TargetRow[]) => (ts.length ? `${ts.map((t) => num(t.measured, 2)).join(' / ')} ${ts.every((t) => t.pass) ? 'PASS' : '**MISS**'}` : '–');
  for (const name of [...new Set(targets.map(group))]) {
    const of = (db: string) => targets.filter((t) => group(t) === name && t.db === db);
    const any = [...of('sqlite'), ...of('postgres')];
    const levels = [...new Set(any.map((t) => /, c=(\d+)$/.exec(t.target)?.[1]).filter(Boolean))];
    parts.push(mdRow([`${name}${levels.length ? ` (c=${levels.join(' / ')})` : ''}`, any[0]!.goal, cell(of('sqlite')), cell(of('postgres'))]));
  }
  parts.push('', '### Targets in detail', '', mdRow(['', 'target', 'db', 'measured', 'goal', 'detail']), mdRow(['---', '---', '---', '---:', '---', '---']));
  for (const t of targets) parts.push(mdRow([t.pass ? 'PASS' : '**MISS**', t.target, t.db, num(t.measured, 2), t.goal, t.detail]));
  parts.push('', '### Scenarios', '', mdRow(HEAD), mdRow(HEAD.map((_, i) => (i >= 3 && i !== 8 ? '---:' : '---'))));
  for (const r of rows) parts.push(mdRow(cells(rows, r)));
  if (storms.length) {
    parts.push(
      '',
      '### Login storm',
      '',
      mdRow([
        'db',
        'target',
        'token p99 quiet ms',
        'token p99 storm ms',
        'token ops/s quiet → storm',
        'logins/s',
        'login errors',
        '/healthz p50 / p99 quiet → storm ms',
        'event-loop delay max quiet → storm ms',
        'server CPU % in storm',
      ]),
      mdRow(Array(10).fill('---')),
    );
    for (const s of storms) {
      parts.push(
        mdRow([
          s.db,
          s.target,
          num(s.quiet.p99Ms, 1),
          num(s.storm.p99Ms, 1),
          `${num(s.quiet.rps, 0)} → ${num(s.storm.rps, 0)}`,
          num(s.logins.perS, 1),
          String(s.logins.errors),
          `${num(s.probeQuietP50Ms, 1)} / ${num(s.probeQuietP99Ms, 1)} → ${num(s.probeStormP50Ms, 1)} / ${num(s.probeStormP99Ms, 1)}`,
          `${num(s.eventLoopDelayQuiet?.maxMs, 1)} → ${num(s.eventLoopDelayStorm?.maxMs, 1)}`,
          num(s.serverCpuPctDuringStorm, 0),
        ]),
      );
    }
  }
  if (memory.length) {
    parts.push(
      '',
      '### Memory and start-up',
      '',
      mdRow([
        'db',
        'rows stored',
        'bulk insert s',
        'start-ups on one core: /healthz s (ready line s)',
        'on every core',
        'RSS at start MB',
        'RSS after requests MB',
        'peak RSS MB',
      ]),
      mdRow(Array(8).fill('---')),
    );
    for (const m of memory) {
      parts.push(
        mdRow([
          m.db,
          `${m.storedRows.sessions} sessions + ${m.storedRows.grants} grants`,
          num(m.insertSeconds, 1),
          m.startups.map((s) => `${num(s.healthyMs / 1000, 2)} (${num((s.readyMs ?? NaN) / 1000, 2)})`).join(', '),
          (m.startupsEveryCore ?? []).map((s) => num(s.healthyMs / 1000, 2)).join(', ') || '–',
          num(m.rssAtStartMb, 0),
          num(m.rssAfterRequestsMb, 0),
          num(m.peakRssMb, 0),
        ]),
      );
    }
  }
  parts.push('', '### Cryptographic floor (in-process, one core, sequential)', '', mdRow(['operation', 'µs/op', 'ops/s']), mdRow(['---', '---:', '---:']));
  for (const f of floor) parts.push(mdRow([f.name, num(f.usPerOp, 1), num(f.opsPerS, 0)]));
  return parts.join('\n');
}
