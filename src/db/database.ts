// The one place that knows which database we run on. `DATABASE_URL` decides:
// `file:` → SQLite through libsql (prebuilt N-API, no compile step),
// `postgres://` / `postgresql://` → PostgreSQL through node-postgres.
//
// Two ways in, over one set of tables that Prisma owns (schema, migrations):
// Prisma's client for everything, and prepared statements for the few that
// every token request makes (src/db/artifact-store.ts).
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import { ConfigError } from '../config/env.ts';
import { projectRoot } from '../project-root.ts';
import { mapConnections, overrideAdapter } from './adapter-wrapping.ts';
import { postgresAccountStore, sqliteAccountStore, type AccountStore } from './account-store.ts';
import { postgresApiKeyStore, sqliteApiKeyStore, type ApiKeyStore } from './api-key-store.ts';
import { postgresArtifactStore, sqliteArtifactStore, type ArtifactStore } from './artifact-store.ts';
import { withHeldWrites } from './held-writes.ts';
import { withReadAhead } from './read-ahead.ts';
import { CEILING_FRAMES, type Checkpointer, type CheckpointOptions } from './checkpointer.ts';
import { libSqlAdapter, sqliteWritePath, useWalMode } from './sqlite.ts';
import type { PrismaClient as SqliteClient } from '../generated/sqlite/client.ts';

/** Both generated clients have the same models; code is written against this one. */
export type Db = SqliteClient;
export type DbKind = 'sqlite' | 'postgres';

export function databaseKind(url: string): DbKind {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new Error(`unsupported DATABASE_URL scheme in "${url.split(':')[0]}:"`);
}

/** `file:./data/x.db` is relative to the working directory, as for every other path we take. */
export function sqliteFile(url: string): string {
  const path = url.slice('file:'.length).split('?')[0]!;
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

/**
 * The database file holds password hashes, encrypted keys and secrets, and
 * the audit trail: readable by its owner only. SQLite gives its -wal, -shm and
 * -journal files the database file's mode, so creating that one 0600 (before
 * the driver does, with the umask's mode) covers them; existing files are
 * tightened too. An existing file is never opened here: closing any
 * descriptor of it would drop the POSIX locks that connections of this
 * process hold on it, which corrupts SQLite databases.
 */
export function protectSqliteFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) {
    try {
      closeSync(openSync(file, 'wx', 0o600));
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    if (existsSync(f) && (statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
  }
}

/** The SQLite file, protected and in WAL mode, before any connection uses it. */
export function prepareSqliteFile(url: string): string {
  const file = sqliteFile(url);
  try {
    protectSqliteFile(file);
    useWalMode(file);
  } catch (err) {
    throw databaseError(url, err);
  }
  return file;
}

/**
 * A failure to reach the database, said as what to fix in DATABASE_URL (the
 * driver's own words name a host, a file or a syscall, not the setting). Any
 * other error is returned as it is. The URL itself is never repeated: it may
 * hold a password.
 */
export function databaseError(url: string, err: unknown): Error {
  const code = String((err as { code?: unknown }).code ?? '');
  const said = (text: string) => new ConfigError(`DATABASE_URL: ${text} (${code})`);
  if (databaseKind(url) === 'sqlite') {
    const file = sqliteFile(url);
    if (code === 'EEXIST' || code === 'ENOTDIR')
      return said(
        `cannot create the SQLite file ${file}: a part of its folder path is a file, not a folder; ` +
          `point DATABASE_URL at a file in a folder Latchkey can create (e.g. file:./data/latchkey.db)`,
      );
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      return said(
        `cannot create or open the SQLite file ${file}: no permission; give Latchkey's user write access to its folder, or point DATABASE_URL elsewhere`,
      );
    if (code === 'EISDIR') return said(`${file} is a folder: DATABASE_URL must name a file (e.g. file:./data/latchkey.db)`);
    if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_NOTADB') return said(`cannot open ${file} as a SQLite database: check the path in DATABASE_URL`);
    return err as Error;
  }
  let where = 'the database server';
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || 5432}`;
  } catch {
    // checked at start-up (src/config/env.ts)
  }
  switch (code) {
    case 'ECONNREFUSED':
      return said(`nothing accepts connections at ${where}: is PostgreSQL running, and are the host and port in DATABASE_URL right?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return said(`the host of ${where} was not found: check the host name in DATABASE_URL (a #, @, / or ? in the password must be percent-encoded)`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return said(`${where} did not answer: check the host and port in DATABASE_URL, and that a firewall lets this machine through`);
    case '28P01':
    case '28000':
      return said(`PostgreSQL at ${where} refused the user name or password in DATABASE_URL: check them (special characters percent-encoded)`);
    case '3D000':
      return said(`the database named in DATABASE_URL does not exist on ${where}: create it (createdb) or fix the name`);
    default:
      return err as Error;
  }
}

/** PostgreSQL's driver and adapter, loaded only by a process configured for PostgreSQL. */
const postgresModules = async () => {
  const [{ default: driver }, { PrismaPg }] = await Promise.all([import('pg'), import('@prisma/adapter-pg')]);
  return { pg: driver, PrismaPg };
};

export async function adapterFactory(url: string): Promise<SqlMigrationAwareDriverAdapterFactory> {
  if (databaseKind(url) === 'sqlite') return libSqlAdapter(prepareSqliteFile(url));
  const { PrismaPg } = await postgresModules();
  return new PrismaPg({ connectionString: url });
}

export function schemaPath(kind: DbKind): string {
  return kind === 'sqlite' ? join(projectRoot, 'prisma', 'schema.prisma') : join(projectRoot, 'prisma', 'postgres', 'schema.prisma');
}

export function migrationsDir(kind: DbKind): string {
  return join(projectRoot, 'prisma', 'migrations', kind);
}

/** Called with each query's operation and duration in seconds (for metrics). */
export type QueryObserver = (operation: 'query' | 'execute', seconds: number) => void;

const time = <T>(observe: QueryObserver | undefined, operation: Parameters<QueryObserver>[0], run: () => Promise<T>): Promise<T> => {
  if (!observe) return run();
  const started = process.hrtime.bigint();
  return run().finally(() => observe(operation, Number(process.hrtime.bigint() - started) / 1e9));
};

function observed(factory: SqlMigrationAwareDriverAdapterFactory, observe: QueryObserver | undefined): SqlMigrationAwareDriverAdapterFactory {
  return mapConnections(factory, (adapter) =>
    overrideAdapter(adapter, {
      queryRaw: (q) => time(observe, 'query', () => adapter.queryRaw(q)),
      executeRaw: (q) => time(observe, 'execute', () => adapter.executeRaw(q)),
    }),
  );
}

/** Store statements, timed like Prisma's for the metrics. */
function observedAccounts(store: AccountStore, observe: QueryObserver | undefined): AccountStore {
  return observe ? { find: (id) => time(observe, 'query', () => store.find(id)) } : store;
}

function observedKeys(store: ApiKeyStore, observe: QueryObserver | undefined): ApiKeyStore {
  return observe ? { findBySecretHash: (hash) => time(observe, 'query', () => store.findBySecretHash(hash)) } : store;
}

function observedStore(store: ArtifactStore, observe: QueryObserver | undefined): ArtifactStore {
  if (!observe) return store;
  return {
    find: (...a) => time(observe, 'query', () => store.find(...a)),
    findAmong: (...a) => time(observe, 'query', () => store.findAmong(...a)),
    findWithRelated: (...a) => time(observe, 'query', () => store.findWithRelated(...a)),
    findByColumn: (...a) => time(observe, 'query', () => store.findByColumn(...a)),
    upsert: (...a) => time(observe, 'execute', () => store.upsert(...a)),
    upsertTwo: (...a) => time(observe, 'execute', () => store.upsertTwo(...a)),
    consume: (...a) => time(observe, 'execute', () => store.consume(...a)),
    consumeAndUpsert: (...a) => time(observe, 'execute', () => store.consumeAndUpsert(...a)),
    destroy: (...a) => time(observe, 'execute', () => store.destroy(...a)),
    revokeByGrantId: (...a) => time(observe, 'execute', () => store.revokeByGrantId(...a)),
    insertOnce: (...a) => time(observe, 'execute', () => store.insertOnce(...a)),
  };
}

/** Within a request: token writes held and paired, grants and people read ahead (src/db/held-writes.ts, read-ahead.ts). */
function perRequest(store: ArtifactStore, accounts: AccountStore, scope: (() => object | undefined) | undefined) {
  if (!scope) return { artifacts: store, accounts, settleWrites: async () => {} };
  const held = withHeldWrites(store, scope);
  return { ...withReadAhead(held.artifacts, accounts, scope), settleWrites: held.settle };
}

export interface Storage {
  db: Db;
  artifacts: ArtifactStore;
  accounts: AccountStore;
  apiKeys: ApiKeyStore;
  /** Makes the artifact write the current request still holds (src/db/held-writes.ts): before its response leaves. */
  settleWrites(): Promise<void>;
  /** SQLite: transactions of the hot path's writes committed, and the writes they held (group commit, src/db/sqlite.ts). */
  writeGroups?: { readonly commits: number; readonly writes: number };
  /** SQLite with background checkpoints: whether the thread runs, and how many times it synced the log (src/db/checkpointer.ts). */
  checkpoints?: Pick<Checkpointer, 'running' | 'logSyncs'>;
  close(): Promise<void>;
}

// `timestamp(3)` without a time zone holds UTC (that is how Prisma writes it);
// node-postgres would read it in the process's local time zone.
const TIMESTAMP_OID = 1114;
const utcTimestamps = (types: typeof pg.types) => (oid: number, format: 'text' | 'binary') => {
  if (oid === TIMESTAMP_OID && format === 'text') return (value: string) => new Date(`${value.replace(' ', 'T')}Z`);
  return types.getTypeParser(oid, format);
};

/**
 * Opens the database: Prisma's client and the hot-path statements. Only the
 * generated client of the configured database is loaded (each carries a
 * WebAssembly query compiler).
 */
export interface StorageOptions {
  observe?: QueryObserver;
  poolSize?: number;
  /** SQLite: how long a statement waits for another process's write (default BUSY_TIMEOUT_MS, src/db/sqlite.ts). */
  busyTimeoutMs?: number;
  /** An idle or closing PostgreSQL connection failed (a restart, a failover, a dropped socket). */
  onConnectionError?: (err: Error) => void;
  /**
   * The request being served (an object of its own), if any: what it reads
   * ahead and the token write it holds are kept under it (src/db/read-ahead.ts, held-writes.ts).
   */
  requestScope?: () => object | undefined;
  /**
   * SQLite: checkpoints on a thread of their own, from the first write on
   * (src/db/checkpointer.ts); the server's choice, where a checkpoint on the
   * event loop holds every request. `onLost` hears why the thread is gone
   * (checkpoints are then the connection's again).
   */
  backgroundCheckpoints?: CheckpointOptions;
  /** PostgreSQL: the pool to use (made by postgresPool), which the storage then owns and ends at close(); otherwise one of its own. */
  pool?: pg.Pool;
}

/** The PostgreSQL pool a storage uses. Making it opens no connection: the first query does. */
export async function postgresPool(url: string, opts: Pick<StorageOptions, 'poolSize' | 'onConnectionError'> = {}): Promise<pg.Pool> {
  const { pg } = await postgresModules();
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10, types: { getTypeParser: utcTimestamps(pg.types) as never } });
  // The pool drops the failed connection and opens another on demand. Without a
  // listener of our own the error would end the process: Prisma removes its
  // listener at $disconnect, while pool.end() is still closing sockets.
  pool.on('error', (err) => opts.onConnectionError?.(err));
  return pool;
}

export async function openStorage(url: string, opts: StorageOptions = {}): Promise<Storage> {
  if (databaseKind(url) === 'sqlite') {
    const file = prepareSqliteFile(url);
    const { PrismaClient } = await import('../generated/sqlite/client.ts');
    // `synchronous = NORMAL` on each of its connections: src/db/libsql-adapter.ts.
    const background = opts.backgroundCheckpoints;
    const checkpointAtFrames = background ? CEILING_FRAMES : undefined;
    const factory = observed(await libSqlAdapter(file, { busyTimeoutMs: opts.busyTimeoutMs, checkpointAtFrames }), opts.observe);
    const db = new PrismaClient({ adapter: factory });
    const { fast, write, checkpoints } = sqliteWritePath(file, background);
    return {
      db,
      ...perRequest(observedStore(sqliteArtifactStore(fast, write), opts.observe), observedAccounts(sqliteAccountStore(fast), opts.observe), opts.requestScope),
      apiKeys: observedKeys(sqliteApiKeyStore(fast), opts.observe),
      writeGroups: write.stats,
      checkpoints,
      async close() {
        // Writes already asked for commit first (they run in order).
        // The thread stops (after its checkpoint, if it is in one), and the last write does not start it.
        const stopped = checkpoints?.close();
        await write(() => undefined).catch(() => undefined);
        await stopped;
        await db.$disconnect();
        fast.close();
      },
    };
  }
  // One pool for both ways in; Prisma's statements are prepared too.
  const { PrismaPg } = await postgresModules();
  const pool = opts.pool ?? (await postgresPool(url, opts));
  const { PrismaClient } = await import('../generated/postgres/client.ts');
  const factory = observed(new PrismaPg(pool, { statementNameGenerator: (q) => `p_${hashSql(q.sql)}` }), opts.observe);
  // The models are identical, so the PostgreSQL client is usable through the same type.
  const db = new PrismaClient({ adapter: factory }) as unknown as Db;
  return {
    db,
    ...perRequest(observedStore(postgresArtifactStore(pool), opts.observe), observedAccounts(postgresAccountStore(pool), opts.observe), opts.requestScope),
    apiKeys: observedKeys(postgresApiKeyStore(pool), opts.observe),
    async close() {
      await db.$disconnect();
      await pool.end();
    },
  };
}

/** A prepared statement's name: the same text, the same name, on every connection. */
const hashSql = (sql: string) => createHash('sha256').update(sql).digest('base64url').slice(0, 32);
