// A process that exits (process.exit, as a crash or a forced stop does)
// while the server's checkpoint thread is busy, writing flat out so that the
// thread spends its time inside libsql. Run by test/db/checkpointer.test.ts:
// node --import tsx test/helpers/checkpoints-at-exit.ts <sqlite file> <ms before exit>
// The server's SQLite write path (sqliteWritePath, as openStorage builds it),
// without Prisma's client, which the writes do not go through: loading it was
// most of each of the test's twelve processes.
import { sqliteArtifactStore } from '../../src/db/artifact-store.ts';
import { sqliteWritePath } from '../../src/db/sqlite.ts';

const [file, ms] = process.argv.slice(2);
const { fast, write } = sqliteWritePath(file!, { onLost: () => {} });
const artifacts = sqliteArtifactStore(fast, write);
const payload = JSON.stringify({ pad: 'x'.repeat(3000) });
const deadline = Date.now() + Number(ms);
let n = 0;
for (;;) {
  await Promise.all(
    Array.from({ length: 50 }, () =>
      artifacts.upsert('Session', `exit-${process.pid}-${n++}`, {
        payload,
        grantId: null,
        userCode: null,
        uid: null,
        accountId: null,
        clientId: 'client',
        expiresAt: new Date(Date.now() + 60_000),
      }),
    ),
  );
  if (Date.now() > deadline) process.exit(3);
}
