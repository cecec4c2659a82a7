// What code keeps for one request dies with the request, in V8's young
// generation (src/request-slot.ts): kept in a long-lived WeakMap keyed by the
// request's object instead, the values (which, like a request's promises,
// reach that object again) survived young-generation collections and were
// promoted, growing the old generation by every request until a full one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { requestSlot } from '../src/request-slot.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const oldSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

describe('a value kept for a request', () => {
  it('is gone after young-generation collections once its request is over, never promoted', async () => {
    const slot = requestSlot<{ rows: { i: number; s: string }[]; request: object }>('test');
    // The slot as a server's are: made at start, old by the time requests come.
    gc();
    gc();
    await tick();
    const before = oldSpaceUsed();
    // 2,000 requests of about 10 kB each: 20 MB, far more than the young generation holds.
    for (let n = 0; n < 2000; n++) {
      const request = {};
      slot.set(request, { rows: Array.from({ length: 100 }, (_, i) => ({ i, s: `row ${i}` })), request });
      assert.equal(slot.get(request)?.rows.length, 100);
      if (n % 200 === 0) await tick();
    }
    await tick();
    gc({ type: 'minor' });
    await tick();
    gc({ type: 'minor' });
    await tick();
    const grew = oldSpaceUsed() - before;
    assert.ok(grew < 2_000_000, `the old generation grew by ${(grew / 1e6).toFixed(1)} MB: the requests' values were promoted`);
  });

  it('is read, replaced and deleted per request, apart from every other request and slot', () => {
    const a = {};
    const b = {};
    const one = requestSlot<{ n: number }>('one');
    const two = requestSlot<{ n: number }>('two');
    one.set(a, { n: 1 });
    two.set(a, { n: 2 });
    assert.equal(one.get(a)?.n, 1);
    assert.equal(two.get(a)?.n, 2);
    assert.equal(one.has(b), false);
    assert.equal(one.get(b), undefined);
    one.set(a, { n: 3 });
    assert.equal(one.get(a)?.n, 3);
    one.delete(a);
    assert.equal(one.has(a), false);
    assert.equal(two.get(a)?.n, 2, 'another slot of the same request is kept');
    assert.deepEqual(Object.keys(a), [], 'no string key is added: JSON and logs of the object are unchanged');
  });
});
