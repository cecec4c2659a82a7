// The committed migrations of the database under test build exactly what
// prisma/schema.prisma describes: Prisma's schema engine replays them on a
// shadow database, describes it, and finds nothing left to migrate.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { databaseKind } from '../../src/db/database.ts';
import { migrationsToSchema } from '../../scripts/schema-diff.ts';
import { adminQuery, createTestDatabase, type TestDatabase } from '../helpers/server.ts';

describe('the schema and the migrations', () => {
  let dir: string;
  let database: TestDatabase;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-schema-diff-'));
    database = await createTestDatabase(dir);
  });
  after(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('agree: replayed and described (partial indexes included), the migrations leave nothing to migrate', async () => {
    assert.equal(await migrationsToSchema(databaseKind(database.url), database.url), '');
    const admin = process.env.TEST_POSTGRES_URL;
    if (admin) {
      // PostgreSQL's diff replays them on a database of its own (scripts/pg-shadow.ts), dropped after.
      const left = await adminQuery<{ datname: string }>(admin, `SELECT datname FROM pg_database WHERE datname LIKE 'latchkey_shadow_%'`);
      assert.deepEqual(left, [], 'no shadow database left behind');
    }
  });
});
