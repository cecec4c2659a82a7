// The server's SQLite checkpoints run on a thread of their own
// (src/db/checkpointer.ts): a commit on the event loop never copies the log
// into the database, the thread does, syncs it between copies, and restarts
// it so that it does not grow to the connections' own checkpoint; a thread that fails
// hands checkpoints back to the connection; a process that exits while the
// thread is in libsql still ends with its own exit code. SQLite only,
// whatever database the suite runs on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'libsql';
import { backgroundCheckpoints, CEILING_FRAMES, RESTART_FRAMES } from '../../src/db/checkpointer.ts';
import { openStorage, type Storage } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { repeatsFirstPass } from '../helpers/passes.ts';

const SQLITE_ONLY = 'these suites open SQLite files of their own, whatever database the suite runs on';

const columns = (n: number) => ({
  // About a page a row: a burst of them is a log of known size.
  payload: JSON.stringify({ n, pad: 'x'.repeat(3000) }),
  grantId: null,
  userCode: null,
  uid: null,
  accountId: null,
  clientId: 'client',
  expiresAt: new Date(Date.now() + 3_600_000),
});

/**
 * The log's last valid frame, from the WAL index's header (the -shm file:
 * mxFrame at byte 16, native byte order; sqlite.org/walformat.html). It goes
 * back to zero when the log is restarted; the -wal file keeps its size.
 */
const logFrames = (file: string) => {
  const header = readFileSync(`${file}-shm`).subarray(0, 24);
  return endianness() === 'LE' ? header.readUInt32LE(16) : header.readUInt32BE(16);
};

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function openWithThread(dir: string, name: string, lost: Error[], copyMs?: number) {
  const file = join(dir, name);
  await applyMigrations(`file:${file}`);
  const storage = await openStorage(`file:${file}`, { backgroundCheckpoints: { onLost: (err) => lost.push(err), copyMs } });
  // The first write starts the thread.
  await storage.artifacts.upsert('Session', 'first', columns(0));
  await until('the thread runs', () => storage.checkpoints?.running === true);
  return { file, storage };
}

describe('SQLite checkpoints on a thread of their own', { skip: repeatsFirstPass(SQLITE_ONLY) }, () => {
  let dir: string;
  const storages: Storage[] = [];
  const lost: Error[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-checkpoints-'));
  });
  after(async () => {
    for (const s of storages) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a commit that takes the log past SQLite’s threshold answers without copying it into the database', async () => {
    // The thread's next copy is a minute away: whatever copies the log meanwhile is the commit.
    const { file, storage } = await openWithThread(dir, 'one-commit.db', lost, 60_000);
    storages.push(storage);
    const size = statSync(file).size;
    // One commit of ~1,500 pages: past SQLite's 1,000, below the ceiling.
    await Promise.all(Array.from({ length: 1500 }, (_, i) => storage.artifacts.upsert('Session', `burst-${i}`, columns(i))));
    const frames = logFrames(file);
    assert.ok(frames > 1000 && frames < CEILING_FRAMES, `the burst made ${frames} log frames: not what the test needs`);
    assert.equal(statSync(file).size, size, 'the commit copied the log into the database on the event loop');
    assert.deepEqual(lost, []);
  });

  it('between its copies the thread syncs the log, so a power loss takes no more than before', async () => {
    // The next copy is a minute away: only the syncs in between can make the new commits durable.
    const { file, storage } = await openWithThread(dir, 'synced.db', lost, 60_000);
    storages.push(storage);
    const size = statSync(file).size;
    await Promise.all(Array.from({ length: 50 }, (_, i) => storage.artifacts.upsert('Session', `synced-${i}`, columns(i))));
    const before = storage.checkpoints!.logSyncs;
    await until('the log is synced after the commit', () => storage.checkpoints!.logSyncs >= before + 2, 2_000);
    assert.equal(statSync(file).size, size, 'the log was copied, not only synced');
    assert.deepEqual(lost, []);
  });

  it('under steady writes the thread copies the log and starts it over, before the connections’ own checkpoint', async () => {
    const { file, storage } = await openWithThread(dir, 'steady.db', lost);
    storages.push(storage);
    const size = statSync(file).size;
    // Enough writes for a log several times the restart size (about a page each), whatever the machine's speed.
    const deadline = Date.now() + 20_000;
    let n = 0;
    let largest = 0;
    let frames = 0;
    /** The log's length each time it started over. */
    const restartedAt: number[] = [];
    // As a server writes: a group of writes, then the event loop's other work.
    while (n < 5 * RESTART_FRAMES && Date.now() < deadline) {
      await Promise.all(Array.from({ length: 20 }, () => storage.artifacts.upsert('Session', `steady-${n++}`, columns(n))));
      const now = logFrames(file);
      if (now < frames) restartedAt.push(frames);
      frames = now;
      largest = Math.max(largest, now);
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(n >= 5 * RESTART_FRAMES, `only ${n} writes in 20 s: too few to tell whether the log starts over`);
    // Copying alone, the log starts over only at the ceiling, four times the restart size (16,001 frames, measured).
    // How far past the restart size it gets depends on the machine's load (the whole suite at once: 9,060 frames were
    // seen), so what is asserted is that it started over, every time, before the ceiling.
    assert.ok(restartedAt.length > 0, `the log never started over in ${n} writes (it reached ${largest} frames)`);
    assert.ok(largest < CEILING_FRAMES, `the log reached ${largest} frames in ${n} writes, restarted at ${restartedAt.join(', ')}`);
    assert.ok(statSync(file).size > size + 1000 * 4096, 'the log was not copied into the database');
    assert.deepEqual(lost, []);
    assert.equal(await storage.db.oidcPayload.count({ where: { type: 'Session', id: { startsWith: 'steady-' } } }), n);
  });
});

describe('a checkpoint thread that fails', { skip: repeatsFirstPass(SQLITE_ONLY) }, () => {
  it('hands the checkpoints back to the connection, and says why, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-checkpoints-lost-'));
    const connection = new Database(join(dir, 'here.db'));
    try {
      connection.pragma(`wal_autocheckpoint = ${CEILING_FRAMES}`);
      const reasons: Error[] = [];
      // The thread cannot open a database in a folder that does not exist.
      const checkpoints = backgroundCheckpoints(join(dir, 'missing', 'there.db'), connection, { onLost: (err) => reasons.push(err) });
      checkpoints.start();
      await until('the failure is reported', () => reasons.length > 0);
      checkpoints.start();
      assert.equal(checkpoints.running, false);
      const threshold = (connection.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint;
      assert.equal(threshold, 1000, 'the connection does not checkpoint again');
      await checkpoints.close();
      assert.equal(reasons.length, 1);
    } finally {
      connection.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a process that exits without closing the thread (a crash, a forced stop)', { skip: repeatsFirstPass(SQLITE_ONLY) }, () => {
  it('ends with its own exit code, not libsql’s abort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-checkpoints-exit-'));
    try {
      const script = fileURLToPath(new URL('../helpers/checkpoints-at-exit.ts', import.meta.url));
      // Each exits at a random moment of writing flat out; without the guard about one in
      // five was torn down inside libsql (exit 134). Two at a time, on separate files.
      const run = (lane: number, ms: number) =>
        new Promise<number | null>((resolve) => {
          const child = execFile(process.execPath, ['--import', 'tsx', script, join(dir, `lane-${lane}.db`), String(ms)], { timeout: 30_000 }, () =>
            resolve(child.exitCode ?? (child.signalCode ? -1 : null)),
          );
        });
      for (const lane of [0, 1]) await applyMigrations(`file:${join(dir, `lane-${lane}.db`)}`);
      const codes: Array<number | null> = [];
      for (let i = 0; i < 6; i++) codes.push(...(await Promise.all([0, 1].map((lane) => run(lane, 100 + Math.floor(Math.random() * 400))))));
      assert.deepEqual(codes, Array(12).fill(3), `exit codes: ${codes.join(', ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
