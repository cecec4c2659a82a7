// What the committed migrations of one database lack to reach
// prisma/schema.prisma: the SQL of the migration still to write, or '' when
// they agree. Used by scripts/new-migration.ts and by the test that they
// agree (test/scripts/schema-and-migrations-agree.test.ts).
import { readFileSync } from 'node:fs';
import { adapterFactory, migrationsDir, schemaPath, type DbKind } from '../src/db/database.ts';
import { noFilters, readMigrations } from '../src/db/migrate.ts';
import { openSchemaEngine } from '../src/db/schema-engine.ts';
import { pgMigrationFactory } from './pg-shadow.ts';

/** `url`: a database the engine may use (and, for PostgreSQL, from which it makes a shadow database). */
export async function migrationsToSchema(kind: DbKind, url: string): Promise<string> {
  const factory = kind === 'postgres' ? pgMigrationFactory(url) : await adapterFactory(url);
  const handle = await openSchemaEngine(factory, schemaPath(kind));
  try {
    const existing = readMigrations(migrationsDir(kind));
    // The first migration of a database needs no shadow database: it is the whole schema.
    const from = existing.migrationDirectories.length === 0 ? { tag: 'empty' as const } : { tag: 'migrations' as const, ...existing };
    const { stdout } = await handle.engine.diff({
      from,
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath(kind), content: readFileSync(schemaPath(kind), 'utf8') }] },
      script: true,
      exitCode: null,
      filters: noFilters,
    });
    return !stdout || stdout.includes('This is an empty migration') ? '' : stdout.trim();
  } finally {
    await handle.dispose();
  }
}
