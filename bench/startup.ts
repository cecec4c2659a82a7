// Start-up and memory of one server process, quickly (the `memory` scenario
// of bench/run.ts does it on 100,000 stored sessions and grants, after the
// load scenarios):
//
//   npx tsx bench/startup.ts [--runs 5] [--entry dist|src] [--node PATH] [--db sqlite|URL]
//
// Starts Latchkey `--runs` times on one SQLite file (the first start creates
// and migrates it, and is not counted) and prints, per start, spawn →
// /healthz 200 and the resident memory then, with the medians. `--entry src`
// runs `node --import tsx src/server.ts` (how `npm start` ran before the
// compiled build), `--node` another node binary (e.g. Node 24's,
// `npx -y node@24 -p process.execPath`), `--db` a PostgreSQL URL instead.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './cli.ts';
import { cpuMs, rssMb } from './proc-stats.ts';
import { freePort, spawnServer } from './servers.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    entry: { type: 'string', default: 'dist' },
    node: { type: 'string' },
    db: { type: 'string', default: 'sqlite' },
  },
});
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'latchkey-startup-'));
const databaseUrl = values.db === 'sqlite' ? `file:${join(dir, 'latchkey.db')}` : values.db!;
const kek = randomBytes(32).toString('base64');
const healthy: number[] = [];
const rss: number[] = [];
const cpu: number[] = [];
let node = process.version;
try {
  for (let i = -1; i < runs; i++) {
    const port = await freePort();
    const server = await spawnServer({
      kind: 'latchkey',
      entry: values.entry as 'dist' | 'src',
      node: values.node,
      port,
      logDir: dir,
      env: {
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        ISSUER: `http://127.0.0.1:${port}`,
        DATABASE_URL: databaseUrl,
        DATA_DIR: dir,
        LATCHKEY_KEY_ENCRYPTION_KEY: kek,
        LOG_LEVEL: 'warn',
      },
    });
    const mb = rssMb(server.pid);
    // CPU time until /healthz answered (every thread): what a busy machine does not inflate much.
    const ms = cpuMs(server.pid);
    await server.stop();
    if (i < 0) continue;
    healthy.push(server.healthyAfterMs);
    rss.push(mb);
    cpu.push(ms);
    console.error(`start ${i + 1}: /healthz 200 after ${Math.round(server.healthyAfterMs)} ms (${Math.round(ms)} ms CPU), RSS ${mb.toFixed(0)} MB`);
  }
  if (values.node) {
    const { execFileSync } = await import('node:child_process');
    node = execFileSync(values.node, ['--version'], { encoding: 'utf8' }).trim();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `${values.entry} on node ${node}, ${values.db === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: ` +
    `spawn → /healthz 200 median ${Math.round(median(healthy))} ms (${healthy.map(Math.round).join(', ')}), ` +
    `CPU until then median ${Math.round(median(cpu))} ms (${cpu.map(Math.round).join(', ')}), ` +
    `RSS at start median ${median(rss).toFixed(0)} MB (${rss.map((m) => m.toFixed(0)).join(', ')})`,
);
