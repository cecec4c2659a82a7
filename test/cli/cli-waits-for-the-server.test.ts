// The admin CLI writes the database file the server writes. SQLite does not
// queue the processes waiting for its write lock (each polls, sleeping up to
// 100 ms between tries), so on a loaded machine a stream of the server's short
// transactions kept a CLI write from the lock past the 5 s a server statement
// waits, and the command failed (P1008, "database is locked"). An operator's
// command waits longer than that: it holds on until the lock is free.
import assert from 'node:assert/strict';
import Database from 'libsql';
import { after, before, describe, it } from 'node:test';
import { sqliteFile } from '../../src/db/database.ts';
import { BUSY_TIMEOUT_MS } from '../../src/db/sqlite.ts';
import { adminCli } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('the admin CLI waits for the write lock (SQLite)', { skip: process.env.TEST_POSTGRES_URL ? 'SQLite’s lock only' : false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('a write command finds the lock held longer than a server statement waits: it waits, then succeeds', async () => {
    const cli = adminCli(() => server.env, { process: true });
    // Another connection holds the write lock, as the server does mid-transaction.
    const holder = new Database(sqliteFile(server.env.DATABASE_URL!));
    holder.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    const command = cli('client', 'create', '--name', 'Waited for', '--redirect-uri', 'https://waited.example.test/cb', '--json');
    await new Promise((r) => setTimeout(r, BUSY_TIMEOUT_MS + 1_500));
    holder.exec('COMMIT');
    holder.close();
    const result = await command;
    assert.equal(result.code, 0, result.stderr);
    const { client_id } = JSON.parse(result.stdout);
    assert.equal((await server.runtime.clients.get(client_id)).name, 'Waited for');
    assert.ok(performance.now() - started > BUSY_TIMEOUT_MS, 'the command waited for the lock');
  });
});
