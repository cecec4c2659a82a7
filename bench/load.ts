// The one load generator every scenario uses: a closed loop of C workers,
// each awaiting its own operation back to back for D seconds. Closed rather
// than open (fixed arrival rate) because several scenarios are chains in
// which each request needs the previous answer (refresh rotation, code
// flows), and because it never queues more work than the server can take.

export interface OpResult {
  ok: boolean;
  /** HTTP status of the (last) response; 0 when the request itself failed. */
  status: number;
  /** Latency to record instead of the whole operation's (e.g. only the login POST). */
  latencyNs?: number;
  /** Short reason for a failure, counted by kind in the results. */
  error?: string;
}

export type Op = () => Promise<OpResult>;

export interface LoadStats {
  concurrency: number;
  /** Wall time from the first operation to the last one finishing (in-flight ones are awaited, not cut off), of every slice. */
  elapsedS: number;
  completed: number;
  ok: number;
  errors: number;
  /** Count of responses by status, failures only (e.g. {"429": 12}). */
  errorStatuses: Record<string, number>;
  errorKinds: Record<string, number>;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export function percentile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return NaN;
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * What the runs of one measurement did, added up: a measurement taken in
 * slices, in turns with the other servers (bench/run.ts), is one tally.
 */
export interface LoadTally {
  okLatencies: number[];
  allLatencies: number[];
  errorStatuses: Record<string, number>;
  errorKinds: Record<string, number>;
  ok: number;
  errors: number;
  /** The slices' wall time, added up. */
  elapsedNs: bigint;
}

export function newTally(): LoadTally {
  return { okLatencies: [], allLatencies: [], errorStatuses: {}, errorKinds: {}, ok: 0, errors: 0, elapsedNs: 0n };
}

/** The workers, each awaiting its own operation back to back, for `durationMs`: in-flight ones are awaited, not cut off. */
export async function runSlice(workers: Op[], durationMs: number, tally: LoadTally): Promise<void> {
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(durationMs * 1e6));
  await Promise.all(
    workers.map(async (op) => {
      while (process.hrtime.bigint() < deadline) {
        const t0 = process.hrtime.bigint();
        let r: OpResult;
        try {
          r = await op();
        } catch (err) {
          r = { ok: false, status: 0, error: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 120) : String(err) };
        }
        const ms = (r.latencyNs ?? Number(process.hrtime.bigint() - t0)) / 1e6;
        tally.allLatencies.push(ms);
        if (r.ok) {
          tally.ok++;
          tally.okLatencies.push(ms);
        } else {
          tally.errors++;
          tally.errorStatuses[r.status] = (tally.errorStatuses[r.status] ?? 0) + 1;
          const kind = r.error ?? `HTTP ${r.status}`;
          tally.errorKinds[kind] = (tally.errorKinds[kind] ?? 0) + 1;
        }
      }
    }),
  );
  tally.elapsedNs += process.hrtime.bigint() - started;
}

export function statsOf(tally: LoadTally, concurrency: number): LoadStats {
  const { ok, errors } = tally;
  const elapsedS = Number(tally.elapsedNs) / 1e9;
  // Percentiles describe successful operations; a run of nothing but fast
  // refusals (429s) falls back to all of them rather than printing nothing.
  const lat = Float64Array.from(tally.okLatencies.length ? tally.okLatencies : tally.allLatencies).sort();
  const mean = lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : NaN;
  return {
    concurrency,
    elapsedS,
    completed: ok + errors,
    ok,
    errors,
    errorStatuses: tally.errorStatuses,
    errorKinds: tally.errorKinds,
    rps: ok / elapsedS,
    p50Ms: percentile(lat, 0.5),
    p90Ms: percentile(lat, 0.9),
    p99Ms: percentile(lat, 0.99),
    maxMs: lat.length ? lat[lat.length - 1]! : NaN,
    meanMs: mean,
  };
}

export async function runClosedLoop(workers: Op[], durationMs: number): Promise<LoadStats> {
  const tally = newTally();
  await runSlice(workers, durationMs, tally);
  return statsOf(tally, workers.length);
}
