// Answer times tell an attacker nothing about who has an account: a locked
// registered email answers like a locked unknown one, an account imported
// with a slow foreign hash answers like an unknown email and a Latchkey one,
// and sign-up answers an address with an account as fast as one without.
// These tests measure time, so scripts/run-tests.mjs runs this file after the
// others, with the machine to itself (ALONE); the rest of the lockout and of
// the imported passwords and of sign-up is tested in
// lockout-and-rate-limits.test.ts, imported-people.test.ts and signup.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, pageText, type Page } from '../helpers/browser.ts';
import { cliActor, jsonLines, python, pythonHashersMissing } from '../helpers/imports.ts';
import { attemptLogin, registerClient, createUser, type TestClient } from '../helpers/relying-party.ts';
import { advanceClock, startTestServer, type TestServer } from '../helpers/server.ts';
import { signUpPage, submitSignUp } from '../helpers/sign-up.ts';

const LOCKED = /This account is temporarily locked after too many failed attempts/;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fresh = () => `new-${Math.random().toString(36).slice(2)}@example.test`;

describe('a registered email and an unknown one cannot be told apart by their lockout', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '3', LOCKOUT_BASE_SECONDS: '60', LOCKOUT_MAX_SECONDS: '600', BCRYPT_COST: '10' });
    client = await registerClient(server);
  });
  after(() => server.stop());

  async function timed(email: string, password: string) {
    const started = performance.now();
    const page = (await attemptLogin(server, client, email, password)) as Page;
    return { status: page.status, text: pageText(page.html).replace(/[0-9a-f-]{36}|name="csrf"[^>]*/g, ''), ms: performance.now() - started };
  }
  const messageOf = (text: string) => (LOCKED.test(text) ? 'locked' : /not correct/.test(text) ? 'not correct' : text.slice(0, 200));

  it('same answers, same lock lengths (doubling included), same timing', async () => {
    const real = await createUser(server);
    const ghost = `ghost-${Date.now()}@example.test`;
    const run = async () => {
      const out: Record<string, string[]> = { real: [], ghost: [] };
      for (let i = 0; i < 4; i++) {
        const [a, b] = await Promise.all([timed(real.email, 'wrong-password'), timed(ghost, 'wrong-password')]);
        out.real!.push(`${a.status} ${messageOf(a.text)}`);
        out.ghost!.push(`${b.status} ${messageOf(b.text)}`);
      }
      return out;
    };
    const first = await run();
    assert.deepEqual(first.ghost, first.real);
    assert.deepEqual(first.real, ['401 not correct', '401 not correct', '401 locked', '401 locked']);

    // The first lock lasts 60 s for both; the second, 120 s for both (the server's clock is moved, not waited for).
    advanceClock(server, 61_000);
    const second = await run();
    assert.deepEqual(second.ghost, second.real);
    assert.deepEqual(second.real, ['401 not correct', '401 not correct', '401 locked', '401 locked']);
    advanceClock(server, 61_000);
    const [r, g] = await Promise.all([timed(real.email, 'wrong-password'), timed(ghost, 'wrong-password')]);
    assert.equal(messageOf(r.text), 'locked', 'the second lock doubled for the real email');
    assert.equal(messageOf(g.text), 'locked', 'the second lock doubled for the unknown email');

    // Timing: a locked account, a locked unknown email and a wrong password all cost a bcrypt check.
    const samples = { lockedReal: [] as number[], lockedGhost: [] as number[] };
    for (let i = 0; i < 5; i++) {
      samples.lockedReal.push((await timed(real.email, 'wrong-password')).ms);
      samples.lockedGhost.push((await timed(ghost, 'wrong-password')).ms);
    }
    const ratio = median(samples.lockedReal) / median(samples.lockedGhost);
    assert.ok(ratio > 0.6 && ratio < 1.6, `locked real ${median(samples.lockedReal).toFixed(1)} ms vs unknown ${median(samples.lockedGhost).toFixed(1)} ms`);
    const bcryptFloor = 20; // cost 10 takes well over 20 ms on any machine
    assert.ok(median(samples.lockedReal) > bcryptFloor, `a locked account still costs a bcrypt check (${median(samples.lockedReal).toFixed(1)} ms)`);
  });
});

describe('an imported slow hash is no oracle', { skip: pythonHashersMissing() ? `needs ${pythonHashersMissing()}` : false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '10' });
  });
  after(() => server?.stop());

  // A 64 MiB argon2 varies by 2x from run to run here: an answer held to an estimated floor still told the
  // imported account apart (medians seen: imported 880 ms, unknown 397 ms). Every answer now does the same work.
  it('an imported argon2 hash is no oracle: unknown emails, Latchkey bcrypt accounts and imported accounts answer in the same time', async () => {
    // A costly argon2 (what argon2-cffi defaults to is costlier still) beside BCRYPT_COST 4.
    const slow = python<string>(`import json, argon2; print(json.dumps(argon2.PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1).hash('x')))`);
    await server.runtime.admin.users.import(cliActor, jsonLines([{ email: 'slow-argon2@import.example', password_hash: slow }]));
    const native = await server.runtime.users.create({ email: 'native-timing@import.example', password: 'a native passphrase' });
    const timeOf = async (email: string) => {
      const t = performance.now();
      const step = await server.runtime.signIn.password(email, 'not the password', {});
      assert.notEqual(step.kind, 'ok');
      return performance.now() - t;
    };
    const samples: Record<string, number[]> = { imported: [], unknown: [], native: [] };
    // The first answer after the import also reads which schemes are in use and takes argon2's first 64 MiB:
    // 95-120 ms against 65-80 after it, and with three samples one more slow one made a median (seen in full runs).
    for (const email of ['slow-argon2@import.example', 'nobody-warm@import.example', native.email]) await timeOf(email);
    // Interleaved, five each (the lockout threshold is ten: the imported account never locks here).
    for (let i = 0; i < 5; i++) {
      samples.imported!.push(await timeOf('slow-argon2@import.example'));
      samples.unknown!.push(await timeOf(`nobody-${i}@import.example`));
      samples.native!.push(await timeOf(native.email));
    }
    const [imported, unknown, nativeMs] = [median(samples.imported!), median(samples.unknown!), median(samples.native!)];
    const message = `medians: imported ${imported.toFixed(1)} ms, unknown ${unknown.toFixed(1)} ms, Latchkey bcrypt ${nativeMs.toFixed(1)} ms`;
    assert.ok(imported > 20, `the argon2 hash is the slow one here (${message})`);
    assert.ok(unknown > imported * 0.75 && nativeMs > imported * 0.75, `nobody answers much faster than the imported account: ${message}`);
    assert.ok(unknown < imported * 1.5 + 20 && nativeMs < imported * 1.5 + 20, message);
  });
});

describe('sign-up timing', () => {
  let server: TestServer;
  before(async () => {
    // A cost where a bcrypt on one path only would dominate the answer's time (~50 ms a hash).
    server = await startTestServer({ REGISTRATION: 'open', BCRYPT_COST: '10' });
  });
  after(() => server.stop());

  it('an address with an account and one without take the same time: the same work on both paths, no password hashed on either', async () => {
    const client = await registerClient(server);
    const existing = await createUser(server);
    const timed = async (email: string) => {
      const browser = new Browser(server.url);
      const { page } = await signUpPage(browser, client);
      const started = performance.now();
      const answer = await submitSignUp(browser, page, { email, name: 'Someone' });
      assert.equal(answer.status, 200);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await timed(existing.email));
      unknown.push(await timed(fresh()));
    }
    const ratio = median(known) / median(unknown);
    assert.ok(ratio > 0.5 && ratio < 2, `known ${median(known).toFixed(0)} ms, unknown ${median(unknown).toFixed(0)} ms`);
  });
});
