// SQLite's WAL is copied back into the database file by a thread of our own,
// never inside a commit on the event loop.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStorage } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { openFastConnection } from '../../src/db/sqlite.ts';

const sqlite = !process.env.TEST_POSTGRES_URL;

describe('SQLite checkpoints', { skip: !sqlite && 'SQLite only (the PostgreSQL pass has no WAL of ours)' }, () => {
  it('no connection checkpoints in a commit; the background thread does it within seconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-wal-'));
    const url = `file:${join(dir, 'latchkey.db')}`;
    const file = join(dir, 'latchkey.db');
    try {
      await applyMigrations(url);
      const storage = await openStorage(url);
      try {
        const fast = openFastConnection(file);
        assert.equal(Number((fast.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint), 0, 'the hot-path connection');
        fast.close();
        const [prisma] = await storage.db.$queryRawUnsafe<Array<{ wal_autocheckpoint: number | bigint }>>('PRAGMA wal_autocheckpoint');
        assert.equal(Number(prisma?.wal_autocheckpoint), 0, "Prisma's connection");

        const before = statSync(file).size;
        const payload = JSON.stringify({ filler: 'x'.repeat(2000) });
        for (let i = 0; i < 3000; i++) {
          await storage.artifacts.upsert('AccessToken', `wal-${i}`, { payload, grantId: null, userCode: null, uid: null, accountId: null, clientId: null, expiresAt: new Date(Date.now() + 60_000) });
        }
        // 3,000 rows of 2 kB: about 1,500 pages, past SQLite's own 1,000-page threshold.
        const deadline = Date.now() + 8_000;
        while (statSync(file).size < before + 5_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        assert.ok(statSync(file).size >= before + 5_000_000, `the rows reached the database file (${before} → ${statSync(file).size} bytes)`);
      } finally {
        await storage.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
