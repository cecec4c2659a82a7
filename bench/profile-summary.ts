// Where the server's CPU went: self time by function and by module from a
// .cpuprofile written by `npm run bench -- --cpu-prof DIR` (node --cpu-prof
// on each server).
//   tsx bench/profile-summary.ts DIR/CPU.*.<pid>.*.cpuprofile [--top 25] [--window 10] [--inclusive]
// The compiled build is one bundle: frames are mapped back to their source
// file (src/…, or the npm package) through the .map files beside dist/'s
// chunks. --window keeps only the busiest N seconds of each profile (the
// measured run rather than start-up and set-up). The bench stops the servers
// that are not measuring (SIGSTOP): the first sample after a stop spans it,
// and would count seconds of stopped time to whatever frame it caught, so a
// sample that spans more than STOPPED_US counts as none. --inclusive adds
// each function's time with its callees' (a frame counted once per sample
// however deep it recurs): what a layer costs in all, not only in its own code.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A readable module name: the npm package, the project file, or the runtime. */
function moduleOf(url: string): string {
  if (!url) return '(native / V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1) : url;
}

const maps = new Map<string, SourceMap | undefined>();
function sourceMapOf(url: string): SourceMap | undefined {
  if (!maps.has(url)) {
    const file = url.startsWith('file://') ? `${fileURLToPath(url)}.map` : undefined;
    maps.set(url, file && existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : undefined);
  }
  return maps.get(url);
}

/** The frame's source file and line, through the bundle's source map when there is one. */
function located({ url, lineNumber, columnNumber }: ProfileNode['callFrame']): { url: string; line: number } {
  // findEntry answers {} for a place the map does not cover.
  const entry = (url ? sourceMapOf(url)?.findEntry(lineNumber, columnNumber) : undefined) as { originalSource?: string; originalLine?: number } | undefined;
  return entry?.originalSource ? { url: entry.originalSource, line: (entry.originalLine ?? 0) + 1 } : { url, line: lineNumber + 1 };
}

/** Longer than any sampling interval (node's default: 1 ms), shorter than any stop of a server (a whole run). */
const STOPPED_US = 200_000;
/** A sample's time, zero when it spans a stop of the process. */
const sampled = (profile: Profile, i: number) => {
  const us = profile.timeDeltas[i] ?? 0;
  return us > STOPPED_US ? 0 : us;
};

/** The indexes of the samples in the busiest `seconds` of the profile (all of them without a window). */
function busiest(profile: Profile, idle: (i: number) => boolean, seconds: number | undefined): [number, number] {
  if (seconds === undefined) return [0, profile.samples.length - 1];
  const window = seconds * 1e6;
  const at: number[] = [];
  let t = 0;
  for (let i = 0; i < profile.timeDeltas.length; i++) {
    t += sampled(profile, i);
    at.push(t);
  }
  let [best, end, from, busy] = [-1, 0, 0, 0];
  for (let i = 0; i < at.length; i++) {
    while (at[i]! - at[from]! > window) if (!idle(from++)) busy -= sampled(profile, from - 1);
    if (!idle(i)) busy += sampled(profile, i);
    if (busy > best) [best, end] = [busy, i];
  }
  let start = end;
  while (start > 0 && at[end]! - at[start - 1]! <= window) start--;
  return [start, end];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, window: { type: 'string' }, inclusive: { type: 'boolean', default: false } },
});
const top = Number(values.top);
const windowS = values.window === undefined ? undefined : Number(values.window);
const byFunction = new Map<string, number>();
const byModule = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Each node's function and module, mapped through the source maps once.
  const named = new Map<number, { fn: string; mod: string }>();
  const infoOf = (id: number) => {
    let info = named.get(id);
    if (info === undefined) {
      const callFrame = nodes.get(id)!.callFrame;
      const { url, line } = located(callFrame);
      const fn = `${callFrame.functionName || '(anonymous)'}  ${moduleOf(url)}${url ? `:${line}` : ''}`;
      const mod = ['(idle)', '(program)', '(garbage collector)'].includes(callFrame.functionName) ? callFrame.functionName : moduleOf(url);
      info = { fn, mod };
      named.set(id, info);
    }
    return info;
  };
  const frame = (i: number) => nodes.get(profile.samples[i]!)!.callFrame;
  const [start, end] = busiest(profile, (i) => frame(i).functionName === '(idle)', windowS);
  for (let i = start; i <= end; i++) {
    const us = sampled(profile, i);
    const { fn, mod } = infoOf(profile.samples[i]!);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    if (values.inclusive) {
      const seen = new Set<string>();
      for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) seen.add(infoOf(id).fn);
      for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
    total += us;
  }
}

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  }
};
console.log(`${positionals.length} profile(s), ${(total / 1e6).toFixed(1)} s sampled${windowS === undefined ? '' : ` (the busiest ${windowS} s of each)`}`);
print('Self time by module', byModule);
print('Self time by function', byFunction);
if (values.inclusive) print('Total time by function (with its callees)', inclusive);
