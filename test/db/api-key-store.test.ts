// The read behind every API-key check (src/db/api-key-store.ts): the key, its
// person and the person's roles in ONE statement, whatever the number of roles,
// read as Prisma reads the same rows, on both databases; and nothing else per
// check once the key's last use has been written.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createUser } from '../helpers/relying-party.ts';
import { statementsWhileClockStands } from '../helpers/api-keys.ts';

describe('the API-key lookup', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('reads the key, its person and every role (sorted; none is an empty list) in one statement per check', async () => {
    const { runtime } = server;
    await runtime.resources.create({ identifier: 'https://ledger.example.test', scope: 'ledger.read' });
    const person = await createUser(server);
    for (const role of ['ops', 'admin', 'billing']) await runtime.db.userRole.create({ data: { userId: person.id, role } });
    const loner = await createUser(server);
    const many = await runtime.apiKeys.create({ owner: { userId: person.id }, name: 'many roles', scope: 'ledger.read' });
    const none = await runtime.apiKeys.create({ owner: { userId: loner.id }, name: 'no role', scope: 'ledger.read' });

    // First uses: each writes its last use once (not counted below).
    for (const k of [many, none]) assert.equal((await runtime.apiKeys.check(k.key)).active, true);
    for (const k of [many, none]) {
      const until = Date.now() + 5000;
      while ((await runtime.db.apiKey.findUniqueOrThrow({ where: { id: k.record.id } })).lastUsedAt === null) {
        assert.ok(Date.now() < until, 'the last use was never written');
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    // Counted with the clock standing still (no cache's version check falls in between); besides the checks' reads, only
    // the back-channel logout's look for notices owed, on a timer of its own, may fall in the window.
    const checks = 10;
    const { spent, polls } = await statementsWhileClockStands(
      server,
      async () => void (await runtime.apiKeys.check(many.key)),
      async () => {
        for (let i = 0; i < checks; i++) {
          const a = await runtime.apiKeys.check(many.key);
          const b = await runtime.apiKeys.check(none.key);
          assert.ok(a.active && b.active);
          assert.deepEqual(a.holder?.roles, ['admin', 'billing', 'ops']);
          assert.deepEqual(b.holder?.roles, []);
          assert.equal(a.holder?.email, person.email);
        }
      },
    );
    assert.ok(
      spent >= 2 * checks && spent <= 2 * checks + polls,
      `${spent} statements for ${2 * checks} key checks (back-channel polls allowed: ${polls}): a check must be one read`,
    );

    // As Prisma reads the same rows.
    const check = await runtime.apiKeys.check(many.key);
    assert.ok(check.active);
    const row = await runtime.db.apiKey.findUniqueOrThrow({ where: { id: many.record.id } });
    assert.equal(check.key.createdAt.getTime(), row.createdAt.getTime());
    assert.equal(check.key.lastUsedAt?.getTime(), row.lastUsedAt?.getTime());
    assert.deepEqual(check.key.scopes, row.scope.split(' '));
  });
});
