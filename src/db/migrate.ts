// Applies the committed migrations for the configured database, like
// `prisma migrate deploy`. Runs at every start. When Prisma's own
// bookkeeping table already lists every migration with its checksum, the
// schema engine is not loaded at all: its WebAssembly instance costs about
// 0.3 s and 90 MB of resident memory that a process never gives back.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { adapterFactory, databaseError, databaseKind, migrationsDir, schemaPath, sqliteFile } from './database.ts';

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

/** What Prisma's bookkeeping says was applied; undefined when there is no bookkeeping yet. */
async function appliedMigrations(url: string): Promise<AppliedMigration[] | undefined> {
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
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect().catch((err: unknown) => {
    throw databaseError(url, err);
  });
  try {
    const exists = await client.query("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present");
    return exists.rows[0]?.present ? (await client.query<AppliedMigration>(APPLIED)).rows : undefined;
  } finally {
    await client.end();
  }
}

/** True when every committed migration is recorded as applied with the same checksum (Prisma's: SHA-256 of migration.sql). */
export async function upToDate(url: string, list: MigrationList = readMigrations(migrationsDir(databaseKind(url)))): Promise<boolean> {
  const applied = await appliedMigrations(url);
  if (!applied) return false;
  const checksums = new Map(applied.map((m) => [m.migration_name, m.checksum]));
  return list.migrationDirectories.every((m) => {
    const content = m.migrationFile.content;
    return content.tag === 'ok' && checksums.get(m.path) === createHash('sha256').update(content.value).digest('hex');
  });
}

export async function applyMigrations(url: string): Promise<string[]> {
  const kind = databaseKind(url);
  const migrationsList = readMigrations(migrationsDir(kind));
  // Anything else (a new, edited or failed migration) is the engine's to apply or report.
  if (await upToDate(url, migrationsList)) return [];
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
