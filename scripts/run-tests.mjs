// `npm test`: node's own test runner over test/**/*.test.ts through tsx.
// (Node 20 does not expand globs in `node --test`; Node 22+ would.)
// Extra arguments pass through: `npm test -- --test-name-pattern=refresh`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'helpers' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const args = process.argv.slice(2);
const explicit = args.filter((a) => a.endsWith('.ts'));
const flags = args.filter((a) => !a.endsWith('.ts'));
const files = explicit.length
  ? explicit
  : find('test')
      .sort()
      .map((f) => relative('.', f));
// --test-force-exit: a test file ends when its tests do, not when the
// migration engine's stray PostgreSQL timer (or a pool's idle timeout) fires.
const { status } = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-force-exit', ...flags, ...files], { stdio: 'inherit' });
process.exit(status ?? 1);
