// The hot path's writes (tokens, codes, sessions, replay markers): on SQLite
// the writes that arrive together share one transaction (src/db/sqlite.ts,
// groupCommit), and on every database none is answered before it committed —
// what an answer promises must survive the process stopping right after it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'libsql';
import { databaseKind, openStorage, sqliteFile, type Storage } from '../../src/db/database.ts';
import { groupCommit, openFastConnection, useWalMode } from '../../src/db/sqlite.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/server.ts';

const columns = (n: number) => ({
  payload: JSON.stringify({ n, pad: 'x'.repeat(200) }),
  grantId: `grant-${n % 4}`,
  userCode: null,
  uid: null,
  accountId: null,
  clientId: 'client',
  expiresAt: new Date(Date.now() + 3_600_000),
});

/** Frames in the SQLite file's write-ahead log (32-byte header, then 24 + page size bytes each). */
const walFrames = (file: string, pageSize: number) => {
  try {
    return Math.max(0, (statSync(`${file}-wal`).size - 32) / (24 + pageSize));
  } catch {
    return 0;
  }
};

describe('writes of the hot path', () => {
  let dir: string;
  let database: TestDatabase;
  let storage: Storage;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-group-commit-'));
    database = await createTestDatabase(dir);
    await applyMigrations(database.url);
    storage = await openStorage(database.url);
  });
  after(async () => {
    await storage?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a write is answered only once committed: another connection reads it the moment it resolves', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `committed-${i}`);
    const seen = await Promise.all(
      ids.map((id, i) =>
        storage.artifacts.upsert('AccessToken', id, columns(i)).then(() =>
          // Prisma's client: another connection (SQLite) or another pooled one (PostgreSQL).
          storage.db.oidcPayload.findUnique({ where: { type_id: { type: 'AccessToken', id } }, select: { id: true } }),
        ),
      ),
    );
    assert.deepEqual(
      seen.map((r) => r?.id),
      ids,
    );
    // A consume that resolved true is final: of two at once, exactly one wins, and the row says so.
    const results = await Promise.all([
      storage.artifacts.consume('AccessToken', ids[0]!, new Date()),
      storage.artifacts.consume('AccessToken', ids[0]!, new Date()),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    const row = await storage.db.oidcPayload.findUnique({ where: { type_id: { type: 'AccessToken', id: ids[0]! } } });
    assert.ok(row?.consumedAt, 'the winning consume was answered before it committed');
  });

  it('SQLite: writes that arrive together are one commit, not one per write (the log holds fewer frames than writes)', async (t) => {
    if (databaseKind(database.url) !== 'sqlite') return t.skip('group commit is SQLite’s (PostgreSQL commits per connection)');
    const file = sqliteFile(database.url);
    const other = new Database(file);
    try {
      const pageSize = (other.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
      other.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
      assert.equal(walFrames(file, pageSize), 0, 'the log was not emptied first');
      const writes = 40;
      await Promise.all(Array.from({ length: writes }, (_, i) => storage.artifacts.upsert('RefreshToken', `together-${i}`, columns(i))));
      // Each commit appends every page it changed (the table's and each index's): one commit per
      // write appends at least one frame per write; one commit for all appends each page once.
      const frames = walFrames(file, pageSize);
      assert.ok(frames > 0 && frames < writes, `${frames} log frames for ${writes} writes: they were committed one by one`);
    } finally {
      other.close();
    }
  });

  it('SQLite: while Prisma holds the write lock, the writes wait (none fails) and commit after it', async (t) => {
    if (databaseKind(database.url) !== 'sqlite') return t.skip('SQLite only');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const tx = storage.db.$transaction(
      async (db) => {
        await db.role.create({ data: { name: `holder-${Date.now()}` } });
        locked();
        await held;
      },
      { timeout: 10_000 },
    );
    await isLocked;
    let done = false;
    const writes = Promise.all(Array.from({ length: 5 }, (_, i) => storage.artifacts.upsert('Session', `waiting-${i}`, columns(i)))).then(() => (done = true));
    // A few turns of the event loop: the group tried, found the lock taken, and waits.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'a write was answered while another connection held the lock');
    release();
    await tx;
    await writes;
    const count = await storage.db.oidcPayload.count({ where: { type: 'Session', id: { startsWith: 'waiting-' } } });
    assert.equal(count, 5);
  });
});

describe('a group that found the write lock taken (SQLite)', () => {
  it('leaves no snapshot behind: the connection reads what another committed while the group waited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-group-busy-'));
    const file = join(dir, 'busy.db');
    useWalMode(file);
    const fast = openFastConnection(file);
    const other = new Database(file);
    try {
      fast.exec('CREATE TABLE t (x INTEGER)');
      const write = groupCommit(fast);
      const count = fast.prepare('SELECT count(*) AS n FROM t');
      other.exec('BEGIN IMMEDIATE');
      const waiting = write(() => fast.prepare('INSERT INTO t VALUES (1)').run());
      // The group's BEGIN runs at the end of this turn, finds the lock taken, and waits.
      await new Promise((r) => setImmediate(r));
      // A token read meanwhile.
      assert.equal((count.get() as { n: number }).n, 0);
      other.exec('INSERT INTO t VALUES (2)');
      other.exec('COMMIT');
      // Before the group tries again: a BEGIN left in progress by the failure would have kept the old snapshot (0 rows).
      assert.equal((count.get() as { n: number }).n, 1, 'the connection read an old snapshot');
      await waiting;
      assert.equal((count.get() as { n: number }).n, 2);
    } finally {
      fast.close();
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
