// Password hashing must not delay anything else the server does: not the
// event loop, not the WebCrypto jobs that sign every token (they share
// libuv's thread pool with bcrypt's asynchronous API), and not the CPU the
// event loop needs (the hashing threads run at the lowest priority).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createPasswordWorkers } from '../../../src/services/people/password-workers.ts';
import { hashPassword, verifyPassword } from '../../../src/services/people/passwords.ts';

describe('password hashing', () => {
  it('hashes and verifies', async () => {
    const hash = await hashPassword('correct horse battery staple', 4);
    assert.match(hash, /^\$2[aby]\$04\$/);
    assert.equal(await verifyPassword('correct horse battery staple', hash), true);
    assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
    assert.equal(await verifyPassword('x', 'not a bcrypt hash'), false);
  });

  it('token signing never queues behind a storm of hashes: a signature started during the storm finishes before any hash', async () => {
    const key = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new Uint8Array(64));
    const finished: string[] = [];
    // More hashes than libuv has threads (4): on its pool, a signature would wait for them.
    const storm = Array.from({ length: 6 }, (_, i) => hashPassword(`storm password ${i}`, 11).then(() => finished.push(`hash ${i}`)));
    await new Promise((r) => setTimeout(r, 20)); // the hashes are running now
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new Uint8Array(64));
    finished.push('signature');
    await Promise.all(storm);
    assert.equal(finished[0], 'signature', `completion order: ${finished.join(', ')}`);
  });

  // Field 19 of /proc/<pid>/task/<tid>/stat is the nice value; the comm field may contain spaces, so count from its end.
  const threadNices = () =>
    readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });

  it('the hashing threads run at the lowest CPU priority by default, at PASSWORD_HASH_NICE when set (Linux)', {
    skip: process.platform !== 'linux' && 'needs /proc',
  }, async () => {
    // Pools of their own: the process's pool may have been started by a test server of another file (PASSWORD_HASH_NICE=0).
    const lowest = createPasswordWorkers(1);
    const seven = createPasswordWorkers(1, 7);
    try {
      await Promise.all([lowest.hash('a password', 4), seven.hash('a password', 4)]);
      const nice = threadNices();
      assert.ok(nice.includes(19), `thread nice values: ${nice.join(' ')}`);
      assert.ok(nice.includes(7), `thread nice values: ${nice.join(' ')}`);
      assert.ok(nice.includes(0), 'the event loop keeps normal priority');
    } finally {
      await Promise.all([lowest.close(), seven.close()]);
    }
  });
});
