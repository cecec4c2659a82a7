// Per-file wall and CPU time of the test suite: each file in a runner of its
// own (`node --import tsx --test --test-force-exit FILE`), one after another,
// CPU read by /usr/bin/time (the file's process and every process it waited
// for: servers, CLI processes, Chromium, Apache). On a shared machine the
// CPU column is the one to compare.
//   node scripts/time-tests.mjs [--jobs N] [--out FILE.tsv] [files…]
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { testFiles } from './run-tests.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  if (i === -1) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const jobs = Number(opt('--jobs', '1'));
const out = opt('--out', undefined);
const files = args.length ? args : testFiles();

async function timeOne(file, n) {
  const times = join(tmpdir(), `latchkey-time-${process.pid}-${n}`);
  const started = performance.now();
  const code = await new Promise((done) => {
    const child = spawn('/usr/bin/time', ['-o', times, '-f', '%U %S', process.execPath, '--import', 'tsx', '--test', '--test-force-exit', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('exit', (c) => {
      if (c !== 0) process.stderr.write(`--- ${file} failed:\n${log.slice(-4000)}\n`);
      done(c);
    });
  });
  const wall = (performance.now() - started) / 1000;
  const [user, sys] = readFileSync(times, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  rmSync(times, { force: true });
  return { file, code, wall, cpu: user + sys };
}

const started = performance.now();
const load = loadavg()[0];
const results = [];
let next = 0;
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (next < files.length) {
      const n = next++;
      const r = await timeOne(files[n], n);
      results.push(r);
      console.log(`${r.wall.toFixed(1).padStart(7)} s wall ${r.cpu.toFixed(1).padStart(7)} s CPU  ${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.file}`);
    }
  }),
);
const wall = (performance.now() - started) / 1000;
const cpu = results.reduce((s, r) => s + r.cpu, 0);
results.sort((a, b) => b.cpu - a.cpu);
const table = results.map((r) => `${r.file}\t${r.wall.toFixed(1)}\t${r.cpu.toFixed(1)}\t${r.code === 0 ? 'ok' : 'FAIL'}`).join('\n');
const failed = results.filter((r) => r.code !== 0).length;
console.log(`\n${results.length} files, ${failed} failed; ${wall.toFixed(0)} s wall, ${cpu.toFixed(0)} s CPU`);
console.log(`load average ${load.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end`);
if (out) writeFileSync(out, `file\twall_s\tcpu_s\tresult\n${table}\n`);
