// Best of several runs, for figures taken on a shared, noisy machine: each
// scenario row from the run where it reached the most ops/s (its other
// figures come with it, not picked separately), the login storm with the
// smaller slow-down, memory with the faster start-ups; targets recomputed
// from the merged rows. Prints Markdown (what bench/README.md shows).
//   tsx bench/best-of.ts bench/results/A-both.json bench/results/B-both.json > merged.md
import { readFileSync } from 'node:fs';
import type { FloorRow } from './crypto-floor.ts';
import { evaluateTargets, markdown, type MemoryResult, type ResultRow, type StormResult } from './report.ts';

interface RunFile {
  machine: { cores: number; cpu: string; node: string; commit: string; memoryGb: number; loadAvgAtStart: number[]; loadAvgAtEnd: number[] };
  options: { levels: number[]; durationS: number; env: Record<string, string>; pin: boolean };
  startedAt: string;
  minutes: number;
  floor: FloorRow[];
  rows: ResultRow[];
  storms: StormResult[];
  memory: MemoryResult[];
}

const runs = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')) as RunFile);
if (runs.length === 0) {
  console.error('usage: tsx bench/best-of.ts RESULT.json [RESULT.json …]');
  process.exit(2);
}

function best<T>(items: T[], key: (t: T) => string, better: (a: T, b: T) => boolean): T[] {
  const out = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    const cur = out.get(k);
    if (!cur || better(item, cur)) out.set(k, item);
  }
  return [...out.values()];
}

const rows = best(
  runs.flatMap((r) => r.rows),
  (r) => `${r.target}|${r.db}|${r.scenario}|${r.concurrency}`,
  (a, b) => a.stats.rps > b.stats.rps,
);
// Storms with the event-loop delay (newer runs) win over ones without it.
const storms = best(
  runs.flatMap((r) => r.storms),
  (s) => `${s.target}|${s.db}`,
  (a, b) =>
    (a.probeStormP50Ms !== undefined) !== (b.probeStormP50Ms !== undefined)
      ? a.probeStormP50Ms !== undefined
      : a.storm.p99Ms / a.quiet.p99Ms < b.storm.p99Ms / b.quiet.p99Ms,
);
const memory = best(
  runs.flatMap((r) => r.memory),
  (m) => m.db,
  (a, b) => Math.min(...a.startups.map((s) => s.healthyMs)) < Math.min(...b.startups.map((s) => s.healthyMs)),
);
const floor = best(
  runs.flatMap((r) => r.floor),
  (f) => f.name,
  (a, b) => a.opsPerS > b.opsPerS,
);
// Keep the order of the first run's table.
const order = new Map(runs[0]!.rows.map((r, i) => [`${r.target}|${r.db}|${r.scenario}|${r.concurrency}`, i]));
rows.sort(
  (a, b) => (order.get(`${a.target}|${a.db}|${a.scenario}|${a.concurrency}`) ?? 1e9) - (order.get(`${b.target}|${b.db}|${b.scenario}|${b.concurrency}`) ?? 1e9),
);

const m = runs[0]!.machine;
const header = `Best of ${runs.length} run(s): ${runs.map((r) => `${r.startedAt.slice(0, 16).replace('T', ' ')} UTC (${r.minutes.toFixed(1)} min, load average ${r.machine.loadAvgAtStart[0]!.toFixed(1)} → ${r.machine.loadAvgAtEnd[0]!.toFixed(1)})`).join(', ')} · ${m.cores} × ${m.cpu}, ${m.memoryGb} GB · Node ${m.node} · commit ${m.commit} · ${runs[0]!.options.levels.join('/')} workers × ${runs[0]!.options.durationS} s · ${runs[0]!.options.pin ? 'servers pinned to CPU 0, load generator to CPU 1' : 'not pinned'} · env ${JSON.stringify(runs[0]!.options.env)}`;
console.log(markdown(rows, evaluateTargets(rows, storms, memory, floor), floor, storms, memory, header));
