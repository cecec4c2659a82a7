// A process that exits (process.exit, as a crash or a forced stop does)
// while the server's checkpoint thread is busy, writing flat out so that the
// thread spends its time inside libsql. Run by test/db/checkpointer.test.ts:
// node --import tsx test/helpers/checkpoints-at-exit.ts <sqlite file> <ms before exit>
import { openStorage } from '../../src/db/database.ts';

const [file, ms] = process.argv.slice(2);
const storage = await openStorage(`file:${file}`, { backgroundCheckpoints: { onLost: () => {} } });
const payload = JSON.stringify({ pad: 'x'.repeat(3000) });
const deadline = Date.now() + Number(ms);
let n = 0;
for (;;) {
  await Promise.all(
    Array.from({ length: 50 }, () =>
      storage.artifacts.upsert('Session', `exit-${process.pid}-${n++}`, {
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
