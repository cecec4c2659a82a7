// Applies the committed migrations for the configured database, like
// `prisma migrate deploy`. Runs at every start. When Prisma's own
// bookkeeping table already lists every migration with its checksum, the
// schema engine is not loaded at all: its WebAssembly instance costs about
// 0.3 s and 90 MB of resident memory that a process never gives back.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import type pg from 'pg';
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

/**
 * What Prisma's bookkeeping says was applied; undefined when there is no
 * bookkeeping yet. On PostgreSQL through `pool` when given (the one the
 * process goes on using), otherwise through a pool of its own, ended after.
 */
async function appliedMigrations(url: string, pool?: pg.Pool): Promise<AppliedMigration[] | undefined> {
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
  const on = pool ?? (await postgresPool(url));
  try {
    const exists = await on.query<{ present: boolean }>("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present");
    return exists.rows[0]?.present ? (await on.query<AppliedMigration>(APPLIED)).rows : undefined;
  } catch (err) {
    // A pool connects at its first query: a refused connection or an unknown database is named here.
    throw databaseError(url, err);
  } finally {
    if (!pool) await on.end();
  }
}

/** True when every committed migration is recorded as applied with the same checksum (Prisma's: SHA-256 of migration.sql). */
export async function upToDate(url: string, list: MigrationList = readMigrations(migrationsDir(databaseKind(url))), pool?: pg.Pool): Promise<boolean> {
  const applied = await appliedMigrations(url, pool);
  if (!applied) return false;
  const checksums = new Map(applied.map((m) => [m.migration_name, m.checksum]));
  return list.migrationDirectories.every((m) => {
    const content = m.migrationFile.content;
    return content.tag === 'ok' && checksums.get(m.path) === createHash('sha256').update(content.value).digest('hex');
  });
}

export async function applyMigrations(url: string, pool?: pg.Pool): Promise<string[]> {
  const kind = databaseKind(url);
  const migrationsList = readMigrations(migrationsDir(kind));
  // Anything else (a new, edited or failed migration) is the engine's to apply or report.
  if (await upToDate(url, migrationsList, pool)) return [];
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
 * the storage's own pool, whose connection the process then goes on using
 * (a connection of its own for the check cost every start its set-up and
 * its goodbye: docs/operating.md). `onApplied` hears what was applied, even
 * when opening then fails.
 */
export async function openMigratedStorage(
  url: string,
  opts: StorageOptions & { onApplied?: (names: string[]) => void } = {},
): Promise<{ storage: Storage; appliedMigrations: string[] }> {
  const { onApplied, ...storageOpts } = opts;
  const applied = (names: string[]) => {
    if (names.length) onApplied?.(names);
    return names;
  };
  if (databaseKind(url) === 'sqlite') {
    // SQLite prepares its statements as it opens: the tables must be there first.
    const appliedMigrations = applied(await applyMigrations(url));
    return { storage: await openStorage(url, storageOpts), appliedMigrations };
  }
  const pool = await postgresPool(url, storageOpts);
  try {
    const appliedMigrations = applied(await applyMigrations(url, pool));
    // The storage owns the pool from here: its close() ends it.
    return { storage: await openStorage(url, { ...storageOpts, pool }), appliedMigrations };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}
