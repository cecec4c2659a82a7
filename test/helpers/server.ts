// Starts a real Latchkey server on a free port with its own SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig } from '../../src/config/env.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { startGateway } from './gateway.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test server: a SQLite file in `dir`, or, when
 * TEST_POSTGRES_URL (an admin connection) is set, a fresh PostgreSQL database.
 */
export async function createTestDatabase(dir: string): Promise<TestDatabase> {
  const admin = process.env.TEST_POSTGRES_URL;
  if (!admin) return { url: `file:${join(dir, 'latchkey.db')}`, drop: async () => {} };
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export interface TestServer extends RunningServer {
  issuer: string;
  dir: string;
  env: Record<string, string>;
  /** Every log line the server wrote. */
  logs: string[];
  stop(): Promise<void>;
}

export function testEnv(dir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${join(dir, 'latchkey.db')}`,
    DATA_DIR: dir,
    LATCHKEY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Hashing cost is not what these tests measure.
    BCRYPT_COST: '4',
    LOG_LEVEL: 'info',
    // Suites that are not about rate limits make more requests than a person
    // would; the rate-limit suite turns them on with its own budgets.
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_CODE: 'off',
    RATE_LIMIT_TOKEN: 'off',
    RATE_LIMIT_INTROSPECTION: 'off',
    RATE_LIMIT_FAILURES: 'off',
    RATE_LIMIT_ACCOUNT: 'off',
    RATE_LIMIT_AUTHORIZE: 'off',
    RATE_LIMIT_EMAIL: 'off',
    // The operators' listener on a free port of its own (many servers run at once).
    METRICS_PORT: '0',
    ...extra,
  };
}

export async function startTestServer(extra: Record<string, string> = {}, reuse?: { dir: string; env: Record<string, string> }): Promise<TestServer> {
  const dir = reuse?.dir ?? mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  const port = reuse ? Number(reuse.env.PORT) : await freePort();
  const database = reuse ? undefined : await createTestDatabase(dir);
  // `{port}` in a value is this server's port (e.g. ISSUER: 'http://localhost:{port}' for passkeys).
  const env = Object.fromEntries(
    Object.entries(reuse ? { ...reuse.env, ...extra } : testEnv(dir, port, { DATABASE_URL: database!.url, ...extra })).map(([k, v]) => [
      k,
      v.replace('{port}', String(port)),
    ]),
  );
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const config = loadConfig(env);
  const running = await startServer(config, createLogger(config.logLevel, sink));
  return {
    ...running,
    issuer: config.issuer,
    dir,
    env,
    logs,
    async stop() {
      await running.close();
      await database?.drop();
      if (!reuse) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Another node of the same deployment: `first`'s issuer, database and
 * key-encryption key (unless overridden), its own port and process state.
 * Its `url` is a gateway that forwards to it with the issuer's Host, as the
 * load balancer in front of real nodes does (every node refuses requests
 * addressed to any other name).
 */
export async function startSecondNode(first: TestServer, extra: Record<string, string> = {}): Promise<TestServer> {
  const port = await freePort();
  const env = {
    ...testEnv(first.dir, port),
    ISSUER: first.issuer,
    DATABASE_URL: first.env.DATABASE_URL!,
    LATCHKEY_KEY_ENCRYPTION_KEY: first.env.LATCHKEY_KEY_ENCRYPTION_KEY!,
    ...extra,
  };
  const node = await startTestServer({}, { dir: first.dir, env });
  const gateway = await startGateway(node.url, first.issuer);
  return {
    ...node,
    url: gateway.url,
    async stop() {
      await gateway.close();
      await node.stop();
    },
  };
}
