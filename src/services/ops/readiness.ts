// What "ready to serve" means: the database answers, every committed
// migration is applied, and (checked by the caller) a key can sign.
import type { Db } from '../../db/database.ts';
import { readMigrations } from '../../db/migrate.ts';

export interface Check {
  ok: boolean;
  detail?: string;
}

export async function databaseChecks(db: Db, migrationsDir: string): Promise<{ database: Check; migrations: Check }> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
  } catch (err) {
    return { database: { ok: false, detail: (err as Error).message.split('\n')[0] }, migrations: { ok: false, detail: 'database unreachable' } };
  }
  const expected = readMigrations(migrationsDir).migrationDirectories.map((m) => m.path);
  const rows = (await db.$queryRawUnsafe('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')) as {
    migration_name: string;
  }[];
  const applied = new Set(rows.map((r) => r.migration_name));
  const missing = expected.filter((m) => !applied.has(m));
  return {
    database: { ok: true },
    migrations: missing.length ? { ok: false, detail: `not applied: ${missing.join(', ')}` } : { ok: true, detail: `${expected.length} applied` },
  };
}
