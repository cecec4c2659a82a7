// Start-up skips Prisma's schema engine only when its own bookkeeping lists
// every committed migration, finished, with the same checksum; anything else
// goes to the engine.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { databaseKind, migrationsDir, openStorage, type Storage } from '../../src/db/database.ts';
import { applyMigrations, readMigrations, upToDate } from '../../src/db/migrate.ts';
import { inProcess } from '../helpers/cli.ts';
import { adminQuery, createTestDatabase, testEnv, type TestDatabase } from '../helpers/server.ts';

describe('knowing when the database is up to date', () => {
  let dir: string;
  let database: TestDatabase;
  let storage: Storage;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-migrate-'));
    database = await createTestDatabase(dir);
  });
  after(async () => {
    await storage?.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an empty database is not; after applying it is, and a second start applies nothing', async () => {
    assert.equal(await upToDate(database.url), false);
    const applied = await applyMigrations(database.url);
    assert.deepEqual(
      applied,
      readMigrations(migrationsDir(databaseKind(database.url))).migrationDirectories.map((m) => m.path),
    );
    assert.equal(await upToDate(database.url), true);
    assert.deepEqual(await applyMigrations(database.url), []);
    storage = await openStorage(database.url);
  });

  it('a migration missing from the bookkeeping, edited after it ran, or failed is not up to date', async () => {
    const list = readMigrations(migrationsDir(databaseKind(database.url)));
    const last = list.migrationDirectories.at(-1)!.path;
    const withoutLast = { ...list, migrationDirectories: list.migrationDirectories.slice(0, -1) };
    const { db } = storage;
    const row = async (sql: string) => db.$executeRawUnsafe(sql.replaceAll('$NAME', `'${last}'`));

    await row(`UPDATE _prisma_migrations SET checksum = 'edited' WHERE migration_name = $NAME`);
    assert.equal(await upToDate(database.url), false, 'an edited migration');
    assert.equal(await upToDate(database.url, withoutLast), true, 'the others still match');

    await row(`UPDATE _prisma_migrations SET checksum = '${createChecksum(list, last)}', finished_at = NULL WHERE migration_name = $NAME`);
    assert.equal(await upToDate(database.url), false, 'a migration that did not finish');

    await row(`UPDATE _prisma_migrations SET finished_at = started_at, rolled_back_at = started_at WHERE migration_name = $NAME`);
    assert.equal(await upToDate(database.url), false, 'a migration that was rolled back');

    await row(`DELETE FROM _prisma_migrations WHERE migration_name = $NAME`);
    assert.equal(await upToDate(database.url), false, 'a migration not recorded at all');
  });
});

describe('the migration check on PostgreSQL', { skip: !process.env.TEST_POSTGRES_URL && 'PostgreSQL only (TEST_POSTGRES_URL)' }, () => {
  let dir: string;
  let database: TestDatabase;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-migrate-'));
    database = await createTestDatabase(dir, { migrated: true });
  });
  after(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs on the connection the process goes on using: a CLI command opens one connection, not two', async () => {
    const name = new URL(database.url).pathname.slice(1);
    // Counted by PostgreSQL as each connection is let in (its statistics are
    // written before the backend's socket closes, so before the command ends).
    const sessions = async () => {
      const rows = await adminQuery<{ sessions: string }>(process.env.TEST_POSTGRES_URL!, 'SELECT sessions FROM pg_stat_database WHERE datname = $1', [name]);
      return Number(rows[0]?.sessions ?? 0);
    };
    const before = await sessions();
    const listed = await inProcess(testEnv(dir, 3000, { DATABASE_URL: database.url }), ['client', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), { clients: [] });
    assert.equal((await sessions()) - before, 1);
  });
});

function createChecksum(list: ReturnType<typeof readMigrations>, name: string): string {
  const content = list.migrationDirectories.find((m) => m.path === name)!.migrationFile.content;
  return createHash('sha256')
    .update(content.tag === 'ok' ? content.value : '')
    .digest('hex');
}
