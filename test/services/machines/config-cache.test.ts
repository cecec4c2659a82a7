// The per-node cache of clients and resources (src/services/machines/config-cache.ts)
// on the clock the test moves: another node's change is seen within
// CHECK_EVERY_MS, not before the interval and not later; the node that made
// the change sees it at once. The HTTP tests (client-secret-rotation,
// bearer-auth, multi-node) keep the wiring.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../../src/clock.ts';
import { CHECK_EVERY_MS, configCache, createChangeTracker } from '../../../src/services/machines/config-cache.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

describe('the per-node config cache on a moved clock', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  /** A node: its own clock (stopped at `at` until moved), tracker and cache of one value per key. */
  function node(at: number) {
    const clock: Clock & { at: number } = { at, now: () => clock.at };
    const tracker = createChangeTracker(server.runtime.db, clock);
    let version = 0;
    const loads: string[] = [];
    const cache = configCache(tracker, 'clients', async (key) => {
      loads.push(key);
      return `${key}@${version}`;
    });
    return { clock, tracker, cache, loads, bump: () => version++ };
  }

  it("another node's change is seen once CHECK_EVERY_MS has passed since the last check, not a millisecond before", async () => {
    const start = Date.parse('2027-01-01T00:00:00Z');
    const a = node(start);
    const b = node(start);
    assert.equal(await b.cache('app'), 'app@0');
    assert.equal(await b.cache('app'), 'app@0');
    assert.deepEqual(b.loads, ['app'], 'served from the cache');

    b.bump();
    await a.tracker.changed('clients');
    b.clock.at = start + CHECK_EVERY_MS - 1;
    assert.equal(await b.cache('app'), 'app@0', 'within the interval the old value stands');
    b.clock.at = start + CHECK_EVERY_MS;
    assert.equal(await b.cache('app'), 'app@1', 'at the interval the change is seen');
    assert.deepEqual(b.loads, ['app', 'app']);

    // Nothing changed since: the next interval's check keeps the cache.
    b.clock.at += CHECK_EVERY_MS * 10;
    assert.equal(await b.cache('app'), 'app@1');
    assert.equal(b.loads.length, 2);
  });

  it('the node that made the change sees it at once, whatever its clock says', async () => {
    const a = node(Date.parse('2027-02-01T00:00:00Z'));
    assert.equal(await a.cache('shop'), 'shop@0');
    a.bump();
    await a.tracker.changed('clients');
    assert.equal(await a.cache('shop'), 'shop@1');
  });

  it('a change of another kind leaves this cache alone', async () => {
    const start = Date.parse('2027-03-01T00:00:00Z');
    const a = node(start);
    const b = node(start);
    assert.equal(await b.cache('api'), 'api@0');
    b.bump();
    await a.tracker.changed('resources');
    b.clock.at = start + CHECK_EVERY_MS;
    assert.equal(await b.cache('api'), 'api@0');
    assert.deepEqual(b.loads, ['api']);
  });
});
