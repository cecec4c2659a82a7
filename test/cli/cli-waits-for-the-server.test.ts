// The admin CLI writes the database file the server writes. SQLite does not
// queue the processes waiting for its write lock (each polls, sleeping up to
// 100 ms between tries), so on a loaded machine a stream of the server's short
// transactions kept a CLI write from the lock past the 5 s a server statement
// waits, and the command failed (P1008, "database is locked"). An operator's
// command waits longer than that: it holds on until the lock is free.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import Database from 'libsql';
import { after, before, describe, it } from 'node:test';
import { sqliteFile } from '../../src/db/database.ts';
import { BUSY_TIMEOUT_MS } from '../../src/db/sqlite.ts';
import { adminBin, ensureBuilt } from '../helpers/cli-under-load.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** Whether process `pid` has `file` open (its database connection). */
const hasOpen = (pid: number, file: string) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
};

describe('the admin CLI waits for the write lock (SQLite)', { skip: process.env.TEST_POSTGRES_URL ? 'SQLite’s lock only' : false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    ensureBuilt();
  });
  after(() => server?.stop());

  it('a write command finds the lock held longer than a server statement waits: it waits, then succeeds', async () => {
    const file = sqliteFile(server.env.DATABASE_URL!);
    // Another connection holds the write lock, as the server does mid-transaction.
    const holder = new Database(file);
    holder.exec('BEGIN IMMEDIATE');
    let released = 0;
    try {
      const args = ['client', 'create', '--name', 'Waited for', '--redirect-uri', 'https://waited.example.test/cb', '--json'];
      const command = new Promise<{ code: number; stdout: string; stderr: string; at: number }>((resolve) => {
        const child = execFile(process.execPath, [adminBin, ...args], { env: server.env }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr, at: performance.now() }),
        );
        // The lock is held from the moment the command has the file open (its write follows within a moment)
        // for longer than a server statement would wait.
        const watch = setInterval(() => {
          if (!hasOpen(child.pid!, file)) return;
          clearInterval(watch);
          setTimeout(() => {
            holder.exec('COMMIT');
            released = performance.now();
          }, BUSY_TIMEOUT_MS + 2_000);
        }, 20);
        child.once('exit', () => clearInterval(watch));
      });
      const result = await command;
      assert.equal(result.code, 0, result.stderr);
      assert.ok(released > 0 && result.at > released, 'the command finished after the lock was released');
      const { client_id } = JSON.parse(result.stdout);
      assert.equal((await server.runtime.clients.get(client_id)).name, 'Waited for');
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
    }
  });
});
