// A PostgreSQL connection that dies (a restart, a failover, an operator's
// pg_terminate_backend, a test dropping its database) must never end the process.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openStorage } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { createTestDatabase } from '../helpers/server.ts';

const admin = process.env.TEST_POSTGRES_URL;

describe('losing PostgreSQL connections', { skip: !admin && 'PostgreSQL only (CI pass 2 sets TEST_POSTGRES_URL)' }, () => {
  it('idle connections terminated while storage closes are reported, not thrown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-db-'));
    const database = await createTestDatabase(dir);
    const lost: Error[] = [];
    const uncaught: Error[] = [];
    const onUncaught = (err: Error) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await applyMigrations(database.url);
      const storage = await openStorage(database.url, { onConnectionError: (err) => lost.push(err) });
      // Two idle connections in the pool.
      await Promise.all([storage.db.user.count(), storage.db.client.count()]);
      // The state storage.close() passes through: Prisma has let go of the pool
      // (and removed its listener), the pool has not ended yet.
      await storage.db.$disconnect();
      const killer = new pg.Client({ connectionString: admin });
      await killer.connect();
      const { rows } = await killer.query('SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
        new URL(database.url).pathname.slice(1),
      ]);
      await killer.end();
      assert.ok(rows.length >= 1, 'the pool had connections to terminate');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        uncaught.map((e) => e.message),
        [],
        'no uncaught exception',
      );
      assert.ok(lost.length >= 1, 'the loss was reported to the caller');
      assert.match(String(lost[0]?.message), /terminating connection/);
      await storage.close();
    } finally {
      process.off('uncaughtException', onUncaught);
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
