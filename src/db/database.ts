// The one place that knows which database we run on. `DATABASE_URL` decides:
// `file:` → SQLite through libsql (prebuilt N-API, no compile step),
// `postgres://` / `postgresql://` → PostgreSQL through node-postgres.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaLibSql } from '@prisma/adapter-libsql';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { mapConnections, overrideAdapter } from './adapter-wrapping.ts';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client.ts';
import { PrismaClient as PostgresClient } from '../generated/postgres/client.ts';

/** Both generated clients have the same models; code is written against this one. */
export type Db = SqliteClient;
export type DbKind = 'sqlite' | 'postgres';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
 * tightened too.
 */
export function protectSqliteFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    if (existsSync(f) && (statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
  }
}

export function adapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  if (databaseKind(url) === 'sqlite') {
    const file = sqliteFile(url);
    protectSqliteFile(file);
    return new PrismaLibSql({ url: `file:${file}` });
  }
  return new PrismaPg({ connectionString: url });
}

export function schemaPath(kind: DbKind): string {
  return kind === 'sqlite'
    ? join(projectRoot, 'prisma', 'schema.prisma')
    : join(projectRoot, 'prisma', 'postgres', 'schema.prisma');
}

export function migrationsDir(kind: DbKind): string {
  return join(projectRoot, 'prisma', 'migrations', kind);
}

/** Called with each query's operation and duration in seconds (for metrics). */
export type QueryObserver = (operation: 'query' | 'execute', seconds: number) => void;

function observed(factory: SqlMigrationAwareDriverAdapterFactory, observe: QueryObserver): SqlMigrationAwareDriverAdapterFactory {
  const time = <T>(operation: Parameters<QueryObserver>[0], run: () => Promise<T>) => {
    const started = process.hrtime.bigint();
    return run().finally(() => observe(operation, Number(process.hrtime.bigint() - started) / 1e9));
  };
  return mapConnections(factory, (adapter) =>
    overrideAdapter(adapter, {
      queryRaw: (q) => time('query', () => adapter.queryRaw(q)),
      executeRaw: (q) => time('execute', () => adapter.executeRaw(q)),
    }),
  );
}

export function createDb(url: string, observe?: QueryObserver): Db {
  const base = adapterFactory(url);
  const adapter = observe ? observed(base, observe) : base;
  if (databaseKind(url) === 'sqlite') {
    return new SqliteClient({ adapter });
  }
  // The models are identical, so the PostgreSQL client is usable through the same type.
  return new PostgresClient({ adapter }) as unknown as Db;
}
