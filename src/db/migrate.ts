// Applies the committed migrations for the configured database, like
// `prisma migrate deploy`. Runs at every start. When Prisma's own
// bookkeeping table already lists every migration with its checksum, the
// schema engine is not loaded at all: its WebAssembly instance costs about
// 0.3 s and 90 MB of resident memory that a process never gives back.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import {
  adapterFactory,
  databaseError,
  databaseKind,
  migrationsDir,
  openStorage,
  postgresPool,
  schemaPath,
  sqliteFile,
  type Storage,
  type StorageOptions,
} from './database.ts';

export function readMigrations(dir: string): MigrationList {
  const lockPath = join(dir, 'migration_lock.toml');
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  return {
    baseDir: dir,
    lockfile: {
      path: 'migration_lock.toml',
      content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok' as const, value: readFileSync(join(dir, name, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

export const noFilters = { externalTables: [], externalEnums: [] };

interface AppliedMigration {
  migration_name: string;
  checksum: string;
}

// Rows of migrations that finished and were not rolled back, as `prisma migrate deploy` counts them.
const APPLIED = 'SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL';

/** A query on PostgreSQL: a pool's, or a client's. */
type PgQuery = <R extends object>(sql: string) => Promise<{ rows: R[] }>;

async function appliedOnPostgres(query: PgQuery): Promise<AppliedMigration[] | undefined> {
  const exists = await query<{ present: boolean }>("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present");
  return exists.rows[0]?.present ? (await query<AppliedMigration>(APPLIED)).rows : undefined;
}

/**
 * What Prisma's bookkeeping says was applied; undefined when there is no
 * bookkeeping yet. On PostgreSQL through `query` when given, otherwise on a
 * connection of its own.
 */
async function appliedMigrations(url: string, query?: PgQuery): Promise<AppliedMigration[] | undefined> {
  if (databaseKind(url) === 'sqlite') {
    const file = sqliteFile(url);
    if (!existsSync(file)) return undefined;
    // Each database's driver is loaded only where it is configured.
    const { default: Database } = await import('libsql');
    const db = new Database(file, { fileMustExist: true });
    try {
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get();
      return table ? (db.prepare(APPLIED).all() as AppliedMigration[]) : undefined;
    } finally {
      db.close();
    }
  }
  if (query)
    return appliedOnPostgres(query).catch((err: unknown) => {
      // The pool connects at its first query: a connection refused is named here.
      throw databaseError(url, err);
    });
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect().catch((err: unknown) => {
    throw databaseError(url, err);
  });
  try {
    return await appliedOnPostgres((sql) => client.query(sql));
  } finally {
    await client.end();
  }
}

/** True when every committed migration is recorded as applied with the same checksum (Prisma's: SHA-256 of migration.sql). */
export async function upToDate(url: string, list: MigrationList = readMigrations(migrationsDir(databaseKind(url))), query?: PgQuery): Promise<boolean> {
  const applied = await appliedMigrations(url, query);
  if (!applied) return false;
  const checksums = new Map(applied.map((m) => [m.migration_name, m.checksum]));
  return list.migrationDirectories.every((m) => {
    const content = m.migrationFile.content;
    return content.tag === 'ok' && checksums.get(m.path) === createHash('sha256').update(content.value).digest('hex');
  });
}

export async function applyMigrations(url: string, query?: PgQuery): Promise<string[]> {
  const kind = databaseKind(url);
  const migrationsList = readMigrations(migrationsDir(kind));
  // Anything else (a new, edited or failed migration) is the engine's to apply or report.
  if (await upToDate(url, migrationsList, query)) return [];
  const { openSchemaEngine } = await import('./schema-engine.ts');
  const handle = await openSchemaEngine(await adapterFactory(url), schemaPath(kind)).catch((err: unknown) => {
    throw databaseError(url, err);
  });
  try {
    const out = await handle.engine.applyMigrations({ migrationsList, filters: noFilters });
    return out.appliedMigrationNames;
  } finally {
    await handle.dispose();
  }
}

/**
 * The database with every migration applied, opened: how a server or a CLI
 * command starts. On PostgreSQL the check that nothing is pending runs on
 * the storage's own pool, whose connection the process then goes on using:
 * a connection of its own for the check cost each start about 25 ms here
 * (15 to be let in, 10 for the server to see it off).
 */
export async function openMigratedStorage(url: string, opts: StorageOptions = {}): Promise<{ storage: Storage; appliedMigrations: string[] }> {
  if (databaseKind(url) === 'sqlite') {
    // SQLite prepares its statements as it opens: the tables must be there first.
    const applied = await applyMigrations(url);
    return { storage: await openStorage(url, opts), appliedMigrations: applied };
  }
  const pool = await postgresPool(url, opts);
  try {
    const applied = await applyMigrations(url, (sql) => pool.query(sql));
    return { storage: await openStorage(url, { ...opts, pool }), appliedMigrations: applied };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}
