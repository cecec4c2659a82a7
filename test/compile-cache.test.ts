// Compiled code is only read from a folder no one else can write: another
// local user who could put files there could run code in the server.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ownCacheFolder } from '../src/compile-cache.ts';

describe('the compile cache folder', () => {
  const base = mkdtempSync(join(tmpdir(), 'latchkey-compile-cache-'));
  after(() => rmSync(base, { recursive: true, force: true }));

  it('is created for this user alone, and used', () => {
    const dir = join(base, 'fresh', 'compile');
    assert.equal(ownCacheFolder(dir), true);
  });

  it('is not used when others may write to it (planted first, world- or group-writable)', () => {
    for (const mode of [0o777, 0o775, 0o757]) {
      const dir = join(base, `open-${mode.toString(8)}`);
      assert.equal(ownCacheFolder(dir), true);
      chmodSync(dir, mode);
      assert.equal(ownCacheFolder(dir), false, `mode ${mode.toString(8)}`);
    }
  });

  it('is not used when another user owns it, even unwritable by anyone else', (t) => {
    if (process.getuid?.() !== 0) return t.skip("changing a folder's owner needs root");
    const dir = join(base, 'theirs');
    assert.equal(ownCacheFolder(dir), true);
    chownSync(dir, 65534, 65534);
    chmodSync(dir, 0o700);
    assert.equal(ownCacheFolder(dir), false);
  });
});
