// What a process loads only when first asked for it (the admin API, the
// importers) is loaded once however many callers arrive together, and a load
// that failed does not stay failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onFirstCall } from '../src/first-call.ts';

describe('onFirstCall', () => {
  it('loads nothing until called, then once for every caller, however many arrive together', async () => {
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const get = onFirstCall(async () => {
      loads++;
      await gate;
      return { made: loads };
    });
    assert.equal(loads, 0);
    const callers = Array.from({ length: 20 }, () => get());
    release();
    const results = await Promise.all(callers);
    assert.equal(loads, 1);
    assert.ok(
      results.every((r) => r === results[0]),
      'every caller got the same object',
    );
    assert.equal(await get(), results[0]);
    assert.equal(loads, 1);
  });

  it('tries a failed load again at the next call, not the failure again', async () => {
    let attempts = 0;
    const get = onFirstCall(async () => {
      attempts++;
      if (attempts === 1) throw new Error('disk hiccup');
      return 'loaded';
    });
    await assert.rejects(get(), /disk hiccup/);
    assert.equal(await get(), 'loaded');
    assert.equal(await get(), 'loaded');
    assert.equal(attempts, 2);
  });
});
