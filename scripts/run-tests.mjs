// `npm test`: node's own test runner over test/**/*.test.ts through tsx.
// (Node 20 does not expand globs in `node --test`; Node 22+ would.)
// Extra arguments pass through: `npm test -- --test-name-pattern=refresh`.
//
// Files run several at a time: most of a file's time is spent waiting on
// its servers' HTTP, Chromium, Apache or a child process, not on a core, and
// node's default (one file per core, less one: one at a time on two cores)
// leaves the machine idle. TEST_CONCURRENCY (or --test-concurrency=N) sets
// how many; the default is twice the cores. The longest files start first,
// so that the run does not end waiting on one of them. Nothing shared stops
// files from running together: each test server has its own database (a
// SQLite file, or a PostgreSQL database of its own), ports come from
// test/helpers/ports.ts, SMTP catchers and gateways listen on port 0.
// Except time itself: the files in ALONE compare answer times as an attacker
// would (an unknown email against a real one), and other files' load on the
// same cores decides such a race. They run after the others, one at a time,
// each with the machine to itself (a second summary line is theirs).
//
// Short files share a process, TEST_GROUP_SIZE of them (default 12; 1 gives
// every file its own): starting a process that loads tsx, oidc-provider and
// Prisma's query compiler costs ~3.5 s of CPU (one file with one test
// server: 4.2 s, the runner's own process included), as much as many a
// file's tests, and on two cores the suite is CPU-bound (docs/contributing.md
// has the measurements). The files of a group run one after another in their
// process; each still starts its own servers on its own databases, and none
// sets the environment, the working folder or timers outside a test that
// restores them. What a group does share: a test server's first start reuses
// the process's signing key pairs (test/helpers/server.ts), and the password
// threads are set up by the first runtime in the process. The few long files
// of OWN_PROCESS keep a process of their own, so that the groups fill the
// cores around them. Chromium suites run two to a process (unless
// TEST_GROUP_SIZE is 1), the longest with the shortest, so that the pairs
// take about as long as each other: each still launches its own browser,
// and a process of its own cost each suite its own load of the server's
// modules (docs/contributing.md, "Stop 43").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'helpers' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every test file, relative to the working directory, in name order. */
export const testFiles = () =>
  find('test')
    .sort()
    .map((f) => relative('.', f));

/**
 * The files that take longest (their suites' durations in a full run),
 * longest first: they, and the groups that hold them, start the run, so
 * that it does not end waiting on one of them. A file missing here starts
 * after them, in name order.
 */
export const LONGEST_FIRST = [
  'test/cli/cli-under-load.test.ts',
  'test/console/console.browser.test.ts',
  'test/account/passkeys.browser.test.ts',
  'test/ui/accessibility.browser.test.ts',
  'test/console/console-dark.browser.test.ts',
  'test/ui/accessibility-dark.browser.test.ts',
  'test/interactions/signup.browser.test.ts',
  'test/oidc/device-flow.test.ts',
  'test/examples/quick-start.browser.test.ts',
  'test/account/account.browser.test.ts',
  'test/server.test.ts',
  'test/account/account-page.test.ts',
  'test/account/api-keys.browser.test.ts',
  'test/interactions/pages.browser.test.ts',
  'test/config/start-up-errors.test.ts',
  'test/interactions/lockout-and-rate-limits.test.ts',
  'test/interactions/imported-people.test.ts',
  'test/cli/service-account.test.ts',
  'test/interactions/signup.test.ts',
  'test/api/api-key-limits.test.ts',
  'test/oidc/mcp-clients.test.ts',
  'test/operations/multi-node.test.ts',
  'test/cli/usage-errors.test.ts',
];

/** Short files that still keep a process of their own: long, or many processes of their own. */
const OWN_PROCESS = ['test/cli/cli-under-load.test.ts', 'test/oidc/device-flow.test.ts', 'test/cli/usage-errors.test.ts'];

/** Files whose tests measure wall-clock timing (see above): run alone, after the rest. */
export const ALONE = ['test/interactions/timing-oracles.test.ts'];

const rank = (f) => {
  const i = LONGEST_FIRST.indexOf(f.replaceAll('\\', '/'));
  return i === -1 ? LONGEST_FIRST.length : i;
};

export function inRunOrder(files) {
  return files
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
    .map((x) => x.f);
}

/** Files that keep a process of their own. */
const ownProcess = (f) => OWN_PROCESS.includes(f.replaceAll('\\', '/'));

const inChromium = (f) => f.endsWith('.browser.test.ts');

/** `files` (in run order: longest first) in pairs, the longest with the shortest; an odd one out alone. */
function longestWithShortest(files) {
  const pairs = [];
  for (let i = 0, j = files.length - 1; i <= j; i++, j--) pairs.push(i === j ? [files[i]] : [files[i], files[j]]);
  return pairs;
}

/**
 * The files in run order, short ones joined in groups of `size` (neighbours
 * in name order, so a group holds one area's tests; a group starts where
 * its longest file would), each process an entry
 * file in `dir` that imports its files. The entries' names number them in
 * run order: node's runner starts the files it is given in name order, not
 * in the order given (so that, by their own names, the groups would start
 * before the long files, and test/ui/ after test/cli/).
 */
export function inProcesses(files, size, dir) {
  const rest = [...files.filter((f) => !ownProcess(f) && !inChromium(f))].sort();
  const browsers = files.filter(inChromium);
  const processes = [...files.filter(ownProcess).map((f) => [f]), ...(size > 1 ? longestWithShortest(browsers) : browsers.map((f) => [f]))];
  for (let i = 0; i < rest.length; i += Math.max(1, size)) processes.push(rest.slice(i, i + Math.max(1, size)));
  const first = (group) => Math.min(...group.map(rank));
  // Stable: processes of equal rank keep their order (own processes, Chromium pairs, then name order).
  processes.sort((a, b) => first(a) - first(b));
  return processes.map((group, n) => {
    // A pair is named for both files, so that the runner's output names a failing Chromium suite.
    const name = group.length <= 2 ? group.map((f) => basename(f).replace(/\.test\.ts$/, '')).join('+') : `group-of-${group.length}`;
    const entry = join(dir, `${String(n + 1).padStart(3, '0')}-${name}.test.mjs`);
    writeFileSync(entry, group.map((f) => `import ${JSON.stringify(pathToFileURL(resolve(f)).href)};\n`).join(''));
    return entry;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const explicit = args.filter((a) => a.endsWith('.ts'));
  const flags = args.filter((a) => !a.endsWith('.ts'));
  const files = inRunOrder(explicit.length ? explicit : testFiles());
  const alone = files.filter((f) => ALONE.includes(f.replaceAll('\\', '/')));
  const together = files.filter((f) => !alone.includes(f));
  const concurrency =
    flags.find((f) => f.startsWith('--test-concurrency')) ?? `--test-concurrency=${process.env.TEST_CONCURRENCY || availableParallelism() * 2}`;
  const others = flags.filter((f) => !f.startsWith('--test-concurrency'));
  // --test-force-exit: a test file ends when its tests do, not when the
  // migration engine's stray PostgreSQL timer (or a pool's idle timeout) fires.
  const run = (list, n) =>
    list.length
      ? (spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-force-exit', n, ...others, ...list], { stdio: 'inherit' }).status ?? 1)
      : 0;
  const groupSize = Number(process.env.TEST_GROUP_SIZE || 12);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-test-groups-'));
  let first;
  try {
    first = run(inProcesses(together, groupSize, dir), concurrency);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const second = run(alone, '--test-concurrency=1');
  process.exit(first || second);
}
