// The server's SQLite checkpoints run on a thread of their own
// (src/db/checkpointer.ts): a commit on the event loop never copies the log
// into the database, the thread does, and it restarts the log so that it
// does not grow without end; a thread that fails hands checkpoints back to
// the connection. SQLite only, whatever database the suite runs on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'libsql';
import { backgroundCheckpoints, CEILING_FRAMES } from '../../src/db/checkpointer.ts';
import { openStorage, type Storage } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrate.ts';

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

const PAGE = 4096;
const walFrames = (file: string) => Math.max(0, (statSync(`${file}-wal`).size - 32) / (24 + PAGE));
/** The log header's checkpoint sequence: it moves on each time the log is restarted (and written again). */
const walSequence = (file: string) => readFileSync(`${file}-wal`).readUInt32BE(12);

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SQLite checkpoints on a thread of their own', () => {
  let dir: string;
  let file: string;
  let storage: Storage;
  const lost: Error[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-checkpoints-'));
    file = join(dir, 'latchkey.db');
    await applyMigrations(`file:${file}`);
    storage = await openStorage(`file:${file}`, { backgroundCheckpoints: { onLost: (err) => lost.push(err) } });
  });
  after(async () => {
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a commit that takes the log past SQLite’s threshold returns without copying it; the thread copies it, and restarts the log', async () => {
    // The first write starts the thread; let it settle.
    await storage.artifacts.upsert('Session', 'first', columns(0));
    await new Promise((r) => setTimeout(r, 300));
    const sequence = walSequence(file);
    const size = statSync(file).size;

    // One commit of ~1,500 pages: past SQLite's 1,000, below the ceiling.
    await Promise.all(Array.from({ length: 1500 }, (_, i) => storage.artifacts.upsert('Session', `burst-${i}`, columns(i))));
    // Read as soon as the commit has answered: had the commit checkpointed on
    // the event loop, the pages would be in the database file by now.
    const sizeAtAnswer = statSync(file).size;
    const frames = walFrames(file);
    assert.ok(frames > 1000 && frames < CEILING_FRAMES, `the burst made ${frames} log frames: not what the test needs`);
    assert.equal(sizeAtAnswer, size, 'the commit copied the log into the database on the event loop');

    await until('the thread copies the log into the database', () => statSync(file).size > size + 1000 * PAGE);
    // The restart takes effect at the next write, which then starts the log from its beginning.
    await until(
      'the thread restarts the log',
      () => {
        void storage.artifacts.upsert('Session', `after-${Date.now()}`, columns(1));
        return walSequence(file) !== sequence;
      },
      5_000,
    );
    assert.deepEqual(lost, []);
    // Nothing was lost: every row reads back through Prisma's connection.
    assert.equal(await storage.db.oidcPayload.count({ where: { type: 'Session', id: { startsWith: 'burst-' } } }), 1500);
  });

  it('the log stays bounded under writes that never pause', async () => {
    const deadline = Date.now() + 1_500;
    let n = 0;
    let largest = 0;
    while (Date.now() < deadline) {
      await Promise.all(Array.from({ length: 50 }, () => storage.artifacts.upsert('Session', `steady-${n++}`, columns(n))));
      largest = Math.max(largest, walFrames(file));
    }
    // The file keeps the largest size it reached. A writer that never lets go
    // of the lock can keep the thread from restarting the log; the connection's
    // own checkpoint at the ceiling then does (without either, tens of
    // thousands of frames by now).
    assert.ok(largest <= CEILING_FRAMES * 1.25, `the log reached ${largest} frames after ${n} writes`);
    assert.deepEqual(lost, []);
  });
});

describe('a checkpoint thread that fails', () => {
  it('hands the checkpoints back to the connection, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-checkpoints-lost-'));
    const connection = new Database(join(dir, 'here.db'));
    try {
      connection.pragma(`wal_autocheckpoint = ${CEILING_FRAMES}`);
      const reasons: Error[] = [];
      // The thread cannot open a database in a folder that does not exist.
      const checkpoints = backgroundCheckpoints(join(dir, 'missing', 'there.db'), connection, (err) => reasons.push(err));
      checkpoints.start();
      await until('the failure is reported', () => reasons.length > 0);
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

describe('a process that exits without closing the thread (a crash, a forced stop)', () => {
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
