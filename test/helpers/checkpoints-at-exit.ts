// A process that exits (process.exit, as a crash or a forced stop does)
// while the server's checkpoint thread is busy, writing flat out so that the
// thread spends its time inside libsql. Run by test/db/checkpointer.test.ts:
// node --import tsx test/helpers/checkpoints-at-exit.ts <sqlite file> <ms before exit>
// The server's SQLite write path as openStorage (src/db/database.ts) puts it
// together, without Prisma's client, which the writes do not go through:
// loading it was most of each of the test's twelve processes.
import { backgroundCheckpoints } from '../../src/db/checkpointer.ts';
import { sqliteArtifactStore } from '../../src/db/artifact-store.ts';
import { groupCommit, openFastConnection } from '../../src/db/sqlite.ts';

const [file, ms] = process.argv.slice(2);
const fast = openFastConnection(file!);
const checkpoints = backgroundCheckpoints(file!, fast, { onLost: () => {} });
const artifacts = sqliteArtifactStore(fast, groupCommit(fast, checkpoints.start));
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
