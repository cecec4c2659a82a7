// PostgreSQL the way the test suite starts it (scripts/postgres-for-tests.sh),
// but a private cluster on its own directory and port so that it never
// meets anyone else's, and a fresh database per run.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { repoRoot } from './servers.ts';

export const PGDIR = process.env.BENCH_PGDIR ?? '/tmp/latchkey-bench-pg';
export const PGPORT = process.env.BENCH_PGPORT ?? '25442';

export interface BenchPostgres {
  adminUrl: string;
  postmasterPid(): number;
  createDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
  stop(): void;
}

/**
 * `durable`: fsync and synchronous_commit on, as production runs PostgreSQL
 * (every commit waits for its WAL flush); otherwise fsync=off, as the test
 * suite runs it (`--unsafe-pg`, the figures before issue 17).
 */
export function startPostgres(cpus?: string, durable = true): BenchPostgres {
  if (!existsSync('/usr/lib/postgresql')) {
    throw new Error('PostgreSQL is not installed (apt-get install -y postgresql), or run with --db sqlite');
  }
  const script = join(repoRoot, 'scripts', 'postgres-for-tests.sh');
  const env = { ...process.env, PGDIR, TEST_PGPORT: PGPORT, PG_DURABLE: durable ? '1' : '0' };
  // Pinned when asked (bench/run.ts: the load generator's core, or with
  // --pg-core server the server's, as SQLite in-process shares it).
  const [cmd, args] = cpus ? ['taskset', ['-c', cpus, 'bash', script, 'start']] : ['bash', [script, 'start']];
  const out = execFileSync(cmd, args, { env, encoding: 'utf8' });
  const adminUrl = /TEST_POSTGRES_URL=(\S+)/.exec(out)?.[1];
  if (!adminUrl) throw new Error(`postgres-for-tests.sh printed no URL: ${out}`);
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    adminUrl,
    postmasterPid: () => Number(readFileSync(join(PGDIR, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]),
    async createDatabase() {
      const name = `latchkey_bench_${randomBytes(6).toString('hex')}`;
      await admin(`CREATE DATABASE ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return { url: url.href, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
    },
    stop() {
      execFileSync('bash', [script, 'stop'], { env, stdio: 'ignore' });
    },
  };
}
