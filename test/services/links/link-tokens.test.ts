// Single-use links at the storage level, on the test database (SQLite or
// PostgreSQL): raced, expired, tampered, of the wrong kind.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLinkTokenService, type LinkTokenService } from '../../../src/services/links/link-tokens.ts';
import { sweep } from '../../../src/services/ops/sweeper.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

describe('single-use link tokens', () => {
  let server: TestServer;
  let links: LinkTokenService;
  before(async () => {
    server = await startTestServer();
    links = createLinkTokenService(server.runtime.db, randomBytes(32), server.runtime.clock);
  });
  after(() => server.stop());

  it('twenty parallel uses of one link: exactly one gets it', async () => {
    const token = await links.create('reset', { email: 'race@example.test' }, 600);
    const results = await Promise.all(Array.from({ length: 20 }, () => links.consume(token, 'reset')));
    assert.equal(results.filter((r) => r.ok).length, 1, results.map((r) => (r.ok ? 'ok' : r.reason)).join(','));
    assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'used'));
  });

  it('256 random bits, stored only as a keyed hash; tampered, expired and wrong-purpose links are refused', async () => {
    const token = await links.create('verify', { email: 'a@example.test', data: { x: 1 } }, 600);
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    assert.equal(await server.runtime.db.linkToken.count({ where: { id: token } }), 0);
    assert.equal((await links.peek(token, 'verify')).ok, true);
    assert.deepEqual(await links.consume(token, 'reset'), { ok: false, reason: 'invalid' }, 'a confirmation link is no reset link');
    const flipped = `${token.slice(0, 10)}${token[10] === 'a' ? 'b' : 'a'}${token.slice(11)}`;
    assert.deepEqual(await links.consume(flipped, 'verify'), { ok: false, reason: 'invalid' });
    assert.deepEqual(await links.consume(`${token}x`, 'verify'), { ok: false, reason: 'invalid' });
    const { clock } = server.runtime;
    const realNow = clock.now;
    clock.now = () => realNow() + 601_000;
    try {
      assert.deepEqual(await links.consume(token, 'verify'), { ok: false, reason: 'expired' });
    } finally {
      clock.now = realNow;
    }
    assert.equal((await links.consume(token, 'verify')).ok, true);
    // Another server key opens nothing.
    const other = createLinkTokenService(server.runtime.db, randomBytes(32), server.runtime.clock);
    const fresh = await links.create('verify', { email: 'b@example.test' }, 600);
    assert.deepEqual(await other.peek(fresh, 'verify'), { ok: false, reason: 'invalid' });
  });

  it('expired links are swept; live ones stay', async () => {
    const dead = await links.create('invite', { email: 'old@example.test' }, 60);
    const live = await links.create('invite', { email: 'new@example.test' }, 3600);
    const removed = await sweep(server.runtime.db, { auditRetentionDays: 90 }, new Date(Date.now() + 120_000));
    assert.ok(removed.links >= 1);
    assert.deepEqual(await links.peek(dead, 'invite'), { ok: false, reason: 'invalid' });
    assert.equal((await links.peek(live, 'invite')).ok, true);
  });
});
