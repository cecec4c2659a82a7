// Can a storm of password logins starve the token endpoint? Client
// credentials at a fixed concurrency, first quiet, then while other workers
// post logins flat out (bcrypt at the configured cost, at its limit). A
// /healthz probe every 20 ms watches the event loop itself: bcrypt run on
// the loop would hold every answer for a whole hash.
import type { Pool } from 'undici';
import { runClosedLoop, percentile, type LoadStats } from './load.ts';
import { cpuMs } from './proc-stats.ts';
import type { StormResult } from './report.ts';
import { loginOp, type Target } from './scenarios.ts';
import type { scenarioSet } from './scenarios.ts';
import { send } from './user-agent.ts';

function probe(pool: Pool) {
  const samples: number[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      try {
        await send(pool, '/healthz', { read: false });
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch {
        // counted by its absence
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async finish() {
      stop = true;
      await done;
      const sorted = Float64Array.from(samples).sort();
      return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
    },
  };
}

/**
 * The event loop's delay since the last scrape, from Latchkey's /metrics
 * (prom-client's monitorEventLoopDelay, reset at every scrape); undefined
 * where there is none (the baseline).
 */
async function loopDelay(pool: Pool): Promise<{ p50Ms: number; p99Ms: number; maxMs: number } | undefined> {
  const res = await send(pool, '/metrics', { headers: { authorization: `Bearer ${process.env.BENCH_METRICS_TOKEN ?? ''}` } });
  if (res.status !== 200) return undefined;
  const read = (name: string) => Number(new RegExp(`^latchkey_process_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(res.text)?.[1]) * 1000;
  const out = { p50Ms: read('p50'), p99Ms: read('p99'), maxMs: read('max') };
  return Number.isFinite(out.maxMs) ? out : undefined;
}

export async function loginStorm(
  target: Target,
  set: ReturnType<typeof scenarioSet>,
  pid: number,
  opts: { durationMs: number; tokenConcurrency: number; loginWorkers: number },
): Promise<StormResult> {
  const tokens = async () => runClosedLoop((await set.prepare('client-credentials', opts.tokenConcurrency, opts.durationMs / 1000)).workers, opts.durationMs);

  await tokens(); // warm-up
  await loopDelay(target.pool);
  const quietProbe = probe(target.pool);
  const quiet = await tokens();
  const quietP = await quietProbe.finish();
  const quietLoop = await loopDelay(target.pool);

  // The storm starts first and runs past the measured window on both sides.
  const logins = { ok: 0, errors: 0, errorStatuses: {} as Record<string, number> };
  let stormOver = false;
  const stormStarted = performance.now();
  const storm = Promise.all(
    Array.from({ length: opts.loginWorkers }, async (_, i) => {
      const op = loginOp(target, i);
      while (!stormOver) {
        try {
          const r = await op();
          if (r.ok) logins.ok++;
          else {
            logins.errors++;
            logins.errorStatuses[r.status] = (logins.errorStatuses[r.status] ?? 0) + 1;
          }
        } catch {
          logins.errors++;
          logins.errorStatuses['0'] = (logins.errorStatuses['0'] ?? 0) + 1;
        }
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 1500));
  await loopDelay(target.pool);
  const stormProbe = probe(target.pool);
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  let stormStats: LoadStats;
  try {
    stormStats = await tokens();
  } finally {
    stormOver = true;
  }
  const cpuPct = ((cpuMs(pid) - cpu0) / (performance.now() - t0)) * 100;
  const stormLoop = await loopDelay(target.pool);
  const stormP = await stormProbe.finish();
  await storm;
  const stormSeconds = (performance.now() - stormStarted) / 1000;

  return {
    db: target.db,
    target: target.kind,
    loginWorkers: opts.loginWorkers,
    tokenConcurrency: opts.tokenConcurrency,
    quiet,
    storm: stormStats,
    logins: { ...logins, perS: logins.ok / stormSeconds },
    probeQuietP50Ms: quietP.p50,
    probeQuietP99Ms: quietP.p99,
    probeStormP50Ms: stormP.p50,
    probeStormP99Ms: stormP.p99,
    probeStormMaxMs: stormP.max,
    serverCpuPctDuringStorm: cpuPct,
    eventLoopDelayQuiet: quietLoop,
    eventLoopDelayStorm: stormLoop,
  };
}
