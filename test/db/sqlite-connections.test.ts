// Prisma's transactions on SQLite run on the adapter's one connection
// (src/db/sqlite.ts, WaitingLibSql). The driver underneath opened a new
// connection for whatever followed each transaction and never closed the old
// one: it lived until V8 collected it, rarely, with its page cache and parsed
// schema (about 2 MB after a batch of inserts), and without the per-connection
// `synchronous = NORMAL`. A `user import` of 100,000 people (a transaction a
// batch) grew by some 300 MB of native memory so (issue 18, bench/README.md).
// And a statement that gave up waiting for another process's lock stayed in
// progress in the binding, leaving its connection on an old snapshot and
// unable to commit (src/db/libsql-adapter.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import Database from 'libsql';
import { after, before, describe, it } from 'node:test';
import { databaseKind, openStorage, sqliteFile } from '../../src/db/database.ts';
import { IMPORT_BATCH } from '../../src/services/people/user-import.ts';
import { adminClient, bootstrapAdmin, tokenFor } from '../helpers/admin-api.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** This process's open handles on `file` (each SQLite connection holds one). */
const handlesOn = (file: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;

// The test server's database is PostgreSQL when TEST_POSTGRES_URL is set (test/helpers/server.ts), which keeps a fixed pool.
describe('Prisma’s SQLite connection', { skip: process.env.TEST_POSTGRES_URL ? 'SQLite’s driver only' : false }, () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startTestServer();
    token = await tokenFor(server, await bootstrapAdmin(server));
    // Make sure the admin client is warm (its own first transaction done).
    assert.equal((await adminClient(server)('GET', '/users', { token })).status, 200);
    // The token's write started the checkpoint thread: its connection is counted from the start.
    const deadline = Date.now() + 5_000;
    while (!server.runtime.checkpoints?.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.runtime.checkpoints?.running, true, 'the checkpoint thread did not start');
  });
  after(() => server?.stop());

  it('an import of three batches of people opens no new connection, and every transaction keeps synchronous = NORMAL', async () => {
    const url = server.env.DATABASE_URL!;
    assert.equal(databaseKind(url), 'sqlite');
    const file = sqliteFile(url);
    const handles = handlesOn(file);
    const people = IMPORT_BATCH * 3;
    const body = Array.from({ length: people }, (_, i) => JSON.stringify({ email: `p${i}@connections.example`, name: `P ${i}` })).join('\n');
    const res = await fetch(`${server.url}/admin/api/v1/users/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    const report = (await res.json()) as { created: number; failed: number };
    assert.deepEqual([res.status, report.created, report.failed], [200, people, 0]);
    assert.equal(handlesOn(file), handles, 'SQLite connections opened by the import and left open');

    // A transaction after others, and a statement after it: the connection the adapter configured.
    const db = server.runtime.db;
    for (let i = 0; i < 3; i++) {
      const [inside] = await db.$transaction(async (tx) => tx.$queryRawUnsafe<{ synchronous: bigint | number }[]>('PRAGMA synchronous'));
      assert.equal(Number(inside?.synchronous), 1, 'synchronous inside a transaction (1 = NORMAL, 2 = FULL)');
    }
    const [outside] = await db.$queryRawUnsafe<{ synchronous: bigint | number }[]>('PRAGMA synchronous');
    assert.equal(Number(outside?.synchronous), 1, 'synchronous after transactions (1 = NORMAL, 2 = FULL)');
    assert.equal(handlesOn(file), handles);
  });

  it('after a write that gave up waiting for another process, the connection reads what others commit and commits its own', async () => {
    const url = server.env.DATABASE_URL!;
    // A node of its own on the server's file, with a short wait, so that giving up takes 50 ms, not BUSY_TIMEOUT_MS.
    const node = await openStorage(url, { busyTimeoutMs: 50 });
    // It waits for the server's own writes (its audit flush), as another process would.
    const other = new Database(sqliteFile(url), { timeout: 5_000 });
    const seen = async (id: string) => (await node.db.auditEvent.findUnique({ where: { id } })) !== null;
    try {
      assert.equal(await node.db.auditEvent.count({ where: { type: 'busy-test' } }), 0, 'the node has read the file');
      // Another process (the CLI, another node) holds the write lock longer than the node waits.
      other.exec('BEGIN IMMEDIATE');
      // Prisma's "Operation has timed out": the node gave up waiting, on a statement and at a transaction's BEGIN.
      const gaveUp = (err: { code?: string }) => err.code === 'P1008';
      await assert.rejects(node.db.auditEvent.create({ data: { id: randomUUID(), type: 'busy-test' } }), gaveUp);
      await assert.rejects(
        node.db.$transaction(async (tx) => tx.auditEvent.create({ data: { id: randomUUID(), type: 'busy-test' } })),
        gaveUp,
      );
      other.exec('ROLLBACK');

      // What the other process commits afterwards, the node reads.
      for (let i = 0; i < 3; i++) {
        const id = randomUUID();
        other.prepare("INSERT INTO audit_events (id, at, type) VALUES (?, '2026-12-05T00:00:00.000+00:00', 'busy-test')").run(id);
        assert.ok(await seen(id), `a row committed by another connection after the failure is read (${i + 1})`);
      }
      // And its own writes commit, in a transaction and on their own, still at synchronous = NORMAL.
      const mine = randomUUID();
      await node.db.$transaction(async (tx) => tx.auditEvent.create({ data: { id: mine, type: 'busy-test' } }));
      await node.db.auditEvent.create({ data: { id: randomUUID(), type: 'busy-test' } });
      assert.ok(other.prepare('SELECT 1 FROM audit_events WHERE id = ?').get(mine), 'the transaction committed');
      const [sync] = await node.db.$queryRawUnsafe<{ synchronous: bigint | number }[]>('PRAGMA synchronous');
      assert.equal(Number(sync?.synchronous), 1, 'the replaced connection is set up like the first (1 = NORMAL)');
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await node.close();
    }
  });
});
