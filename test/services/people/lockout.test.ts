// The lockout's reservations at the storage level, on the test database
// (SQLite or PostgreSQL): what parallel attempts on one email are told.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLockoutService, type LockoutService } from '../../../src/services/people/lockout.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

describe('lockout reservations', () => {
  let server: TestServer;
  let lockout: LockoutService;
  const policy = { threshold: 5, baseSeconds: 60, maxSeconds: 3600 };
  before(async () => {
    server = await startTestServer();
    lockout = createLockoutService(server.runtime.db, policy, randomBytes(32), server.runtime.clock);
  });
  after(() => server.stop());

  it('the first attempts on a fresh email, fired at once, are each reserved: none is told "locked" while places remain', async () => {
    for (let round = 0; round < 10; round++) {
      const key = lockout.keyFor(`fresh-${round}@example.test`);
      const answers = await Promise.all(Array.from({ length: policy.threshold }, () => lockout.reserve(key)));
      assert.deepEqual(
        answers.map((a) => a.ok),
        Array(policy.threshold).fill(true),
        `round ${round}`,
      );
    }
  });

  it('one more than the threshold at once: exactly the threshold is reserved, the rest refused', async () => {
    const key = lockout.keyFor('over@example.test');
    const answers = await Promise.all(Array.from({ length: policy.threshold + 3 }, () => lockout.reserve(key)));
    assert.equal(answers.filter((a) => a.ok).length, policy.threshold);
    assert.ok(answers.filter((a) => !a.ok).every((a) => !a.ok && a.until.getTime() > Date.now()));
  });
});
