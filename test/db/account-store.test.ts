// The prepared lookup behind findAccount must return exactly what Prisma's
// client returns for the same row, on both databases (types, dates, booleans).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('the prepared account lookup', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('reads a person as Prisma does, follows disabling at once, and knows nobody else', async () => {
    const { users, db } = server.runtime;
    const created = await users.create({
      email: `store-${Date.now()}@example.test`,
      password: 'correct horse battery staple',
      name: 'Grace',
      emailVerified: true,
    });
    const select = { id: true, email: true, emailVerified: true, name: true, disabled: true, createdAt: true, locale: true } as const;
    assert.deepEqual(await users.findActive(created.id), await db.user.findUniqueOrThrow({ where: { id: created.id }, select }));
    await users.setDisabled(created.id, true);
    assert.equal(await users.findActive(created.id), undefined, 'a disabled person is not active');
    const unnamed = await users.create({ email: `store-unnamed-${Date.now()}@example.test`, password: 'correct horse battery staple' });
    assert.deepEqual(await users.findActive(unnamed.id), await db.user.findUniqueOrThrow({ where: { id: unnamed.id }, select }));
    assert.equal(await users.findActive('no-such-person'), undefined);
  });
});
