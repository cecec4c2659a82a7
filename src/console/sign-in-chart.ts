// The Overview's sign-in charts, drawn on the server as SVG (no script): a
// pair of bars per hour or day — sign-ins and failures — scaled to the
// busiest one. The template (views/console/sign-in-chart.njk) gives each an
// accessible name and description and the same numbers as a table.
import type { SignInActivity } from '../services/admin/audit.ts';

type Point = SignInActivity['hourly'][number];

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  kind: 'ok' | 'fail';
}

export interface SignInChart {
  id: string;
  unit: 'hour' | 'day';
  width: number;
  height: number;
  /** The baseline's y. */
  base: number;
  bars: Bar[];
  /** The busiest bucket's count (the top of the scale). */
  max: number;
  signIns: number;
  failures: number;
  points: Point[];
}

const WIDTH = 480;
const HEIGHT = 120;
const PAD = 4;

export function signInChart(id: string, unit: 'hour' | 'day', points: Point[]): SignInChart {
  const max = Math.max(1, ...points.flatMap((p) => [p.signIns, p.failures]));
  const base = HEIGHT - PAD;
  const slot = (WIDTH - 2 * PAD) / Math.max(1, points.length);
  const width = Math.max(1, (slot - 2) / 2);
  const scale = (n: number) => (n === 0 ? 0 : Math.max(1, Math.round(((base - PAD) * n) / max)));
  const bars = points.flatMap((p, i) => {
    const x = PAD + i * slot + 1;
    return [
      { x: round(x), y: base - scale(p.signIns), width: round(width), height: scale(p.signIns), kind: 'ok' as const },
      { x: round(x + width), y: base - scale(p.failures), width: round(width), height: scale(p.failures), kind: 'fail' as const },
    ].filter((b) => b.height > 0);
  });
  return {
    id,
    unit,
    width: WIDTH,
    height: HEIGHT,
    base,
    bars,
    max,
    signIns: points.reduce((n, p) => n + p.signIns, 0),
    failures: points.reduce((n, p) => n + p.failures, 0),
    points,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
