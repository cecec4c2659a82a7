// The `cli` scenario: the admin CLI as an operator runs it, one process per
// command (bin/latchkey-admin.mjs → dist/cli/index.js under plain node), on
// the bench's database with no server running. A read, a write and a usage
// error in an empty folder, each `runs` times in a row; the wall time, the
// process's CPU time (user + system, every thread) and its peak RSS, from
// GNU time (/usr/bin/time), the medians against issue 17's targets. Unlike
// the servers, a CLI process runs on every core (until stop 26 it inherited
// the bench's pinning to one core, which serialised its compile and GC
// threads with its main thread).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from '../scripts/build.mjs';
import { repoRoot } from './servers.ts';
import type { TargetRow } from './report.ts';
import type { Fixture } from './setup.ts';

export interface CliResult {
  db: string;
  /** What was run, as an operator types it. */
  command: string;
  kind: 'read' | 'write' | 'usage error';
  via: 'bin' | 'npx';
  runs: number;
  wallMs: number[];
  cpuMs: number[];
  maxRssMb: number[];
  failures: number;
}

const TIME = '/usr/bin/time';
const TASKSET = '/usr/bin/taskset';
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
};

interface OneRun {
  code: number;
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
  stderr: string;
}

function runOnce(cmd: string[], env: Record<string, string>, cwd: string): Promise<OneRun> {
  const out = join(mkdtempSync(join(tmpdir(), 'latchkey-bench-cli-')), 'time');
  const timed = existsSync(TIME);
  // On every core, as an operator runs it: the bench process (and so its children) is pinned to one.
  const everyCore = existsSync(TASKSET) ? [TASKSET, '-c', `0-${availableParallelism() - 1}`] : [];
  const [file, args] = timed ? [TIME, ['-f', '%e %U %S %M', '-o', out, ...everyCore, ...cmd]] : [cmd[0]!, cmd.slice(1)];
  const started = performance.now();
  return new Promise((done) => {
    execFile(file, args, { cwd, env, maxBuffer: 4 << 20 }, (err, _stdout, stderr) => {
      const wallMs = performance.now() - started;
      let cpuMs = NaN;
      let maxRssMb = NaN;
      if (timed) {
        // GNU time prints "Command exited with non-zero status N" first when it did.
        const line = readFileSync(out, 'utf8').trim().split('\n').at(-1)!;
        const [, user, sys, rssKb] = line.split(' ').map(Number);
        cpuMs = (user! + sys!) * 1000;
        maxRssMb = rssKb! / 1024;
      }
      rmSync(join(out, '..'), { recursive: true, force: true });
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 1) : 0;
      done({ code, wallMs, cpuMs, maxRssMb, stderr });
    });
  });
}

/** Measures the CLI on the database `env` names; `fixture` gives it something to read. */
export async function measureCli(db: string, env: Record<string, string>, fixture: Fixture, runs: number): Promise<CliResult[]> {
  ensureBuilt();
  const bin = join(repoRoot, 'bin', 'latchkey-admin.mjs');
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env };
  const empty = mkdtempSync(join(tmpdir(), 'latchkey-bench-empty-'));
  const cases: { kind: CliResult['kind']; via: CliResult['via']; args: (i: number) => string[]; env: Record<string, string>; cwd: string; expect: number }[] = [
    { kind: 'read', via: 'bin', args: () => ['client', 'list', '--json'], env: base, cwd: repoRoot, expect: 0 },
    { kind: 'read', via: 'bin', args: () => ['service-account', 'show', fixture.serviceAccount.clientId, '--json'], env: base, cwd: repoRoot, expect: 0 },
    {
      kind: 'write',
      via: 'bin',
      args: (i) => ['client', 'create', '--name', `bench cli ${i}`, '--redirect-uri', 'https://app.bench.test/cli', '--json'],
      env: base,
      cwd: repoRoot,
      expect: 0,
    },
    {
      kind: 'write',
      via: 'bin',
      args: (i) => ['service-account', i % 2 ? 'enable' : 'disable', fixture.serviceAccount.clientId, '--json'],
      env: base,
      cwd: repoRoot,
      expect: 0,
    },
    // Nothing but PATH and HOME, in an empty folder: a usage error opens nothing.
    {
      kind: 'usage error',
      via: 'bin',
      args: () => ['client', 'create', '--redirect_uri', 'https://app.bench.test/cli'],
      env: { PATH: base.PATH, HOME: empty },
      cwd: empty,
      expect: 2,
    },
    { kind: 'read', via: 'npx', args: () => ['client', 'list', '--json'], env: base, cwd: repoRoot, expect: 0 },
  ];
  const results: CliResult[] = [];
  try {
    for (const c of cases) {
      const r: CliResult = { db, command: '', kind: c.kind, via: c.via, runs, wallMs: [], cpuMs: [], maxRssMb: [], failures: 0 };
      // One unmeasured run: the page cache holds the files afterwards, as on a machine in use.
      for (let i = -1; i < runs; i++) {
        const args = c.args(i);
        const cmd = c.via === 'npx' ? ['npx', '--no', 'latchkey-admin', ...args] : [process.execPath, bin, ...args];
        r.command = `${c.via === 'npx' ? 'npx latchkey-admin' : 'latchkey-admin'} ${c.args(0).join(' ')}`;
        const one = await runOnce(cmd, c.env, c.cwd);
        if (i < 0) continue;
        if (one.code !== c.expect) {
          r.failures++;
          if (r.failures === 1) console.error(`bench cli: ${r.command} exited ${one.code}: ${one.stderr.trim().split('\n').slice(-2).join(' | ')}`);
        }
        r.wallMs.push(one.wallMs);
        r.cpuMs.push(one.cpuMs);
        r.maxRssMb.push(one.maxRssMb);
      }
      results.push(r);
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  return results;
}

/** Issue 17: a read ≤ 0.5 s, a write ≤ 0.7 s, median wall time of the bin; npx and usage errors for scale. */
export const cliGoalMs = (r: CliResult): number | undefined => (r.via !== 'bin' ? undefined : r.kind === 'read' ? 500 : r.kind === 'write' ? 700 : undefined);

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–');

export function cliTargets(results: CliResult[]): TargetRow[] {
  return results.flatMap((r) => {
    const goal = cliGoalMs(r);
    if (goal === undefined) return [];
    const wall = median(r.wallMs);
    return [
      {
        target: `CLI ${r.kind}: ${r.command} (median of ${r.runs})`,
        db: r.db,
        measured: wall / 1000,
        goal: `≤ ${goal / 1000} s`,
        pass: wall <= goal && r.failures === 0,
        detail: `CPU ${f(median(r.cpuMs))} ms, peak RSS ${f(median(r.maxRssMb))} MB${r.failures ? `; ${r.failures} runs failed` : ''}`,
      },
    ];
  });
}

export function cliText(results: CliResult[]): string {
  return results
    .map(
      (r) =>
        `${r.db.padEnd(8)} ${r.kind.padEnd(11)} wall ${f(median(r.wallMs)).padStart(5)} ms ` +
        `(min ${f(Math.min(...r.wallMs))}, max ${f(Math.max(...r.wallMs))})  ` +
        `CPU ${f(median(r.cpuMs)).padStart(5)} ms  RSS ${f(median(r.maxRssMb)).padStart(4)} MB  ${r.command}${r.failures ? `  (${r.failures} failed)` : ''}`,
    )
    .join('\n');
}

export function cliMarkdown(results: CliResult[]): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    '### Admin CLI (one process per command, median of each)',
    '',
    row(['db', 'kind', 'command', 'wall ms (min–max)', 'CPU ms', 'peak RSS MB', 'goal']),
    row(['---', '---', '---', '---:', '---:', '---:', '---']),
    ...results.map((r) => {
      const goal = cliGoalMs(r);
      const wall = median(r.wallMs);
      return row([
        r.db,
        r.kind,
        `\`${r.command}\``,
        `${f(wall)} (${f(Math.min(...r.wallMs))}–${f(Math.max(...r.wallMs))})`,
        f(median(r.cpuMs)),
        f(median(r.maxRssMb)),
        goal === undefined ? '–' : `≤ ${goal} ms: ${wall <= goal && !r.failures ? 'PASS' : 'MISS'}`,
      ]);
    }),
  ].join('\n');
}
