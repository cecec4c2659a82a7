// Applies the committed migrations for the configured database, like
// `prisma migrate deploy`. Runs at every start; a no-op when up to date.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { adapterFactory, databaseKind, migrationsDir, schemaPath } from './database.ts';
import { openSchemaEngine } from './schema-engine.ts';

export function readMigrations(dir: string): MigrationList {
  const lockPath = join(dir, 'migration_lock.toml');
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
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

export async function applyMigrations(url: string): Promise<string[]> {
  const kind = databaseKind(url);
  const handle = await openSchemaEngine(adapterFactory(url), schemaPath(kind));
  try {
    const out = await handle.engine.applyMigrations({
      migrationsList: readMigrations(migrationsDir(kind)),
      filters: noFilters,
    });
    return out.appliedMigrationNames;
  } finally {
    await handle.dispose();
  }
}
