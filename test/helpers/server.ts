// Starts a real Latchkey server on a free port with its own SQLite file.
import { AsyncLocalStorage } from 'node:async_hooks';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'libsql';
import pg from 'pg';
import { loadConfig } from '../../src/config/env.ts';
import { migrationsDir } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { keyPairSource, type SigningAlg } from '../../src/services/secrets/signing-keys.ts';
import { startGateway } from './gateway.ts';
import { freePort } from './ports.ts';

export { freePort };

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test server: a SQLite file in `dir`, or, when
 * TEST_POSTGRES_URL (an admin connection) is set, a fresh PostgreSQL database.
 * Empty, unless `migrated`: then a copy of a database every committed
 * migration was applied to once (see migratedTemplate below), which the
 * server finds up to date (src/db/migrate.ts) as it would after its first start.
 */
export async function createTestDatabase(dir: string, opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const admin = process.env.TEST_POSTGRES_URL;
  if (!admin) {
    const file = join(dir, 'latchkey.db');
    if (opts.migrated) copyFileSync(await sqliteTemplate(), file);
    return { url: `file:${file}`, drop: async () => {} };
  }
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
  // FILE_COPY: copying the template's files took half the time of WAL_LOG (PostgreSQL 15's default), which logs every page.
  await adminQuery(admin, `CREATE DATABASE ${name}${opts.migrated ? ` TEMPLATE ${await postgresTemplate(admin)} STRATEGY FILE_COPY` : ''}`);
  return {
    url: databaseUrl(admin, name),
    drop: async () => {
      await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

// One admin connection per process for every test database it creates and
// drops, and what a test asks the cluster about them (a new connection costs
// a PostgreSQL backend, ~25 ms here, twice per test server); idle, it does
// not keep the process alive.
const adminPools = new Map<string, pg.Pool>();
export async function adminQuery<R extends object = object>(admin: string, sql: string, values?: unknown[]): Promise<R[]> {
  let pool = adminPools.get(admin);
  if (!pool) {
    pool = new pg.Pool({ connectionString: admin, max: 2, idleTimeoutMillis: 2000, allowExitOnIdle: true });
    pool.on('error', () => {}); // an idle connection lost (the cluster stopped): the next query reconnects
    adminPools.set(admin, pool);
  }
  return (await pool.query<R>(sql, values)).rows;
}

function databaseUrl(admin: string, name: string): string {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.href;
}

/**
 * Applying the migrations is the same work for every test server (and, the
 * first time in a process, loading Prisma's schema engine: about a second of
 * CPU). So it is done once per set of migrations, for every test process:
 * the template is named for a hash of the committed migrations, and is
 * built under a name of its own, then renamed into place (on PostgreSQL, one
 * process builds while the others wait for it). A changed migration is a
 * new template.
 */
function migrationsHash(kind: 'sqlite' | 'postgres'): string {
  const dir = migrationsDir(kind);
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, 'migration.sql');
    if (existsSync(file)) hash.update(name).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

let sqliteTemplatePath: Promise<string> | undefined;
function sqliteTemplate(): Promise<string> {
  sqliteTemplatePath ??= (async () => {
    const path = join(tmpdir(), `latchkey-test-template-${migrationsHash('sqlite')}.db`);
    if (existsSync(path)) return path;
    const building = mkdtempSync(join(tmpdir(), 'latchkey-template-'));
    try {
      const file = join(building, 'latchkey.db');
      await applyMigrations(`file:${file}`);
      // Everything into the one file (a WAL file beside it would not be copied).
      const db = new Database(file);
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      db.close();
      renameSync(file, path);
    } finally {
      rmSync(building, { recursive: true, force: true });
    }
    return path;
  })();
  return sqliteTemplatePath;
}

let postgresTemplateName: Promise<string> | undefined;
function postgresTemplate(admin: string): Promise<string> {
  if (postgresTemplateName) return postgresTemplateName;
  postgresTemplateName = (async () => {
    const name = `latchkey_template_${migrationsHash('postgres')}`;
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      // The test processes start together and all find no template: one builds
      // it while the others wait on this lock (a session's, so a builder that
      // dies lets go of it). Renaming beside each other instead raced in the
      // catalogue: the loser's rename failed with a unique violation (23505)
      // on pg_database's names, not the 42P04 of a name already taken. A
      // builder that hangs alive stops the waiters after two minutes, not CI's.
      await client.query("SET lock_timeout = '120s'");
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
      if ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount) return name;
      // Built under a name of its own and renamed once whole: a builder stopped
      // half-way leaves no half-migrated template behind.
      const building = `latchkey_building_${randomBytes(6).toString('hex')}`;
      await client.query(`CREATE DATABASE ${building}`);
      try {
        await applyMigrations(databaseUrl(admin, building));
        await client.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      } catch (err) {
        await client.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
        throw err;
      }
      return name;
    } finally {
      await client.end();
    }
  })();
  // A failed build is not kept: the process's next test server tries again,
  // rather than every later suite in the process failing with it.
  postgresTemplateName.catch(() => {
    postgresTemplateName = undefined;
  });
  return postgresTemplateName;
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
    // The other test files keep every core busy: at nice 19 a password check
    // waited for them (11 parallel sign-ins at cost 10 took 25 s, 1 s alone).
    // The default's own behaviour is test/services/people/password-workers.test.ts's
    // and cli-under-load's.
    PASSWORD_HASH_NICE: '0',
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

/**
 * Moves the server's clock (src/clock.ts) `ms` forward, and keeps it running
 * from there: what a test would otherwise sleep for. oidc-provider's own
 * times (tokens, sessions) do not move.
 */
export function advanceClock(server: { runtime: { clock: { now(): number } } }, ms: number): void {
  const { clock } = server.runtime;
  const before = clock.now.bind(clock);
  clock.now = () => before() + ms;
}

/**
 * Stops the server's clock in the middle of the current 30-second TOTP step:
 * codes computed from it (`totp(secret, steps, server.runtime.clock.now())`)
 * stay the server's current, next or previous code however long the test
 * runs, where a real step boundary would otherwise fall between computing a
 * code and the server checking it. Returns the instant.
 */
export function stopClockMidStep(server: { runtime: { clock: { now(): number } } }): number {
  const at = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;
  server.runtime.clock.now = () => at;
  return at;
}

/**
 * A first start generates a signing key per algorithm: an RSA pair cost ~200
 * ms of CPU, two thirds of a test server's ~300 ms start, on ~250 servers a
 * run. The pairs asked for inside `startTestServer`'s own call to startServer
 * on a fresh database, while it runs, are this process's, made once. Not
 * another server's start meanwhile, nor a rotation: the store is per call,
 * and closed when the start ends (the server's listener, created inside it,
 * carries the store to every request). Every other key is generated as in
 * production. Each server still has its own key-encryption
 * key, database and issuer.
 */
const firstStart = new AsyncLocalStorage<{ open: boolean }>();
const reusedPairs = new Map<SigningAlg, ReturnType<typeof keyPairSource.generate>>();
const generatePair = keyPairSource.generate;
keyPairSource.generate = (alg) => {
  if (!firstStart.getStore()?.open) return generatePair(alg);
  let pair = reusedPairs.get(alg);
  if (!pair) {
    pair = generatePair(alg);
    reusedPairs.set(alg, pair);
    pair.catch(() => reusedPairs.delete(alg));
  }
  return pair;
};

export async function startTestServer(extra: Record<string, string> = {}, reuse?: { dir: string; env: Record<string, string> }): Promise<TestServer> {
  const dir = reuse?.dir ?? mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  const port = reuse ? Number(reuse.env.PORT) : await freePort();
  const database = reuse ? undefined : await createTestDatabase(dir, { migrated: true });
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
  const start = () => startServer(config, createLogger(config.logLevel, sink));
  const store = { open: !reuse };
  const running = await firstStart.run(store, start).finally(() => (store.open = false));
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
