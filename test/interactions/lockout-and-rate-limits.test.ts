// Brute-force defences: per-account lockout (doubling) and per-IP rate
// limits, both held in the database so that two nodes share them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, pageText, type Page } from '../helpers/browser.ts';
import { authRequest, createUser, registerClient, submitLogin, type TestClient } from '../helpers/relying-party.ts';
import { startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';

const LOCKED = /This account is temporarily locked after too many failed attempts/;

async function attempt(server: TestServer, client: TestClient, email: string, password: string) {
  const browser = new Browser(server.url);
  const req = await authRequest(client);
  req.url.host = new URL(server.url).host;
  return submitLogin(browser, (await browser.navigate(req.url.href)) as Page, email, password);
}

describe('account lockout', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '3', LOCKOUT_BASE_SECONDS: '2', LOCKOUT_MAX_SECONDS: '5' });
    client = await registerClient(server);
  });
  after(() => server.stop());

  const lockRow = (id: string) => server.runtime.db.user.findUniqueOrThrow({ where: { id } });

  it('locks after the threshold, says so without judging the password, and doubles on the next lock up to the maximum', async () => {
    const person = await createUser(server);
    for (let i = 0; i < 2; i++) assert.doesNotMatch(pageText(((await attempt(server, client, person.email, 'wrong-password')) as Page).html), LOCKED);
    const third = (await attempt(server, client, person.email, 'wrong-password')) as Page;
    assert.match(pageText(third.html), LOCKED);
    const first = await lockRow(person.id);
    const firstLock = first.lockedUntil!.getTime() - Date.now();
    assert.ok(firstLock > 0 && firstLock <= 2000, `first lock ${firstLock} ms`);

    // While locked, the right password gets the same message: nothing is learnt.
    const right = (await attempt(server, client, person.email, person.password)) as Page;
    assert.equal(right.status, 401);
    assert.match(pageText(right.html), LOCKED);

    await new Promise((r) => setTimeout(r, firstLock + 100));
    for (let i = 0; i < 3; i++) await attempt(server, client, person.email, 'wrong-again');
    const second = await lockRow(person.id);
    const secondLock = second.lockedUntil!.getTime() - Date.now();
    assert.ok(secondLock > 2000 && secondLock <= 4000, `second lock doubled: ${secondLock} ms`);
    assert.equal(second.lockCount, 2);

    await new Promise((r) => setTimeout(r, secondLock + 100));
    for (let i = 0; i < 3; i++) await attempt(server, client, person.email, 'wrong-again');
    const third2 = await lockRow(person.id);
    assert.ok(third2.lockedUntil!.getTime() - Date.now() <= 5000, 'capped at LOCKOUT_MAX_SECONDS');

    const events = (await server.runtime.audit.list({ userId: person.id, limit: 100 })).map((e) => e.type);
    assert.equal(events.filter((t) => t === 'account_locked').length, 3);
  });

  it('a success resets the counter', async () => {
    const person = await createUser(server);
    for (let i = 0; i < 2; i++) await attempt(server, client, person.email, 'wrong-password');
    const ok = await attempt(server, client, person.email, person.password);
    assert.ok(!('status' in ok) || (ok as Page).status !== 401);
    const row = await lockRow(person.id);
    assert.equal(row.failedAttempts, 0);
    for (let i = 0; i < 2; i++) await attempt(server, client, person.email, 'wrong-password');
    assert.equal((await lockRow(person.id)).lockedUntil, null, 'two failures after a success do not lock');
  });

  it('an unknown email "locks" the same way, so the message reveals nothing', async () => {
    let last: Page | undefined;
    for (let i = 0; i < 4; i++) last = (await attempt(server, client, 'ghost@example.test', 'whatever123')) as Page;
    assert.match(pageText(last!.html), LOCKED);
  });
});

describe('rate limits shared by two nodes on one database', () => {
  let a: TestServer;
  let b: TestServer;
  let client: TestClient;

  before(async () => {
    const limits = { RATE_LIMIT_LOGIN: '4/60', RATE_LIMIT_TOKEN: '5/60', LOCKOUT_THRESHOLD: '4' };
    a = await startTestServer(limits);
    b = await startSecondNode(a, limits);
    client = await registerClient(a);
  });
  after(async () => {
    await b.stop();
    await a.stop();
  });

  it('login posts: the budget is spent across nodes, then 429 with Retry-After and RateLimit headers', async () => {
    const person = await createUser(a);
    const statuses: number[] = [];
    let last: Page | undefined;
    for (const node of [a, b, a, b, a]) {
      last = (await attempt(node, client, person.email, 'wrong-password')) as Page;
      statuses.push(last.status);
      if (last.status !== 429) {
        assert.equal(last.headers.get('ratelimit-limit'), '4');
        assert.ok(Number(last.headers.get('ratelimit-remaining')) >= 0);
        assert.ok(Number(last.headers.get('ratelimit-reset')) > 0);
      }
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 429]);
    assert.ok(Number(last!.headers.get('retry-after')) > 0);
    assert.equal(last!.headers.get('ratelimit-remaining'), '0');
    assert.equal(last!.headers.get('ratelimit-policy'), '4;w=60');
    assert.match(pageText(last!.html), /Too many attempts/);
  });

  it('the lockout counter is shared: failures on A and B lock the account on both', async () => {
    const person = await createUser(a);
    for (const node of [a, b, a, b]) assert.equal((await node.runtime.signIn.password(person.email, 'wrong', {})).kind !== 'ok', true);
    assert.equal((await a.runtime.signIn.password(person.email, person.password, {})).kind, 'locked');
    assert.equal((await b.runtime.signIn.password(person.email, person.password, {})).kind, 'locked');
  });

  it('the token endpoint answers 429 in OAuth JSON once its budget is spent', async () => {
    const results = [];
    for (const node of [a, b, a, b, a, b]) {
      const res = await fetch(`${node.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      results.push({ status: res.status, headers: res.headers, body: (await res.json()) as { error: string; error_description: string } });
    }
    assert.deepEqual(results.map((r) => r.status), [400, 400, 400, 400, 400, 429]);
    const limited = results[5]!;
    assert.equal(limited.body.error, 'too_many_requests');
    assert.match(limited.body.error_description, /at most 5 per 60 s; retry in \d+ s/);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(results[0]!.headers.get('ratelimit-remaining'), '4');
  });
});
