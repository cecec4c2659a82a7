// Brute-force defences: per-account lockout (doubling) and per-IP rate
// limits, both held in the database so that two nodes share them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, pageText, type Page } from '../helpers/browser.ts';
import { attemptLogin, authRequest, createUser, registerClient, submitLogin, type TestClient } from '../helpers/relying-party.ts';
import { statementsWhileClockStands } from '../helpers/api-keys.ts';
import { advanceClock, startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';

const LOCKED = /This account is temporarily locked after too many failed attempts/;

describe('account lockout', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    // Real lock lengths: the test moves the server's clock past them instead of waiting.
    server = await startTestServer({ LOCKOUT_THRESHOLD: '3', LOCKOUT_BASE_SECONDS: '60', LOCKOUT_MAX_SECONDS: '150' });
    client = await registerClient(server);
  });
  after(() => server.stop());

  const lockRow = async (email: string) =>
    (await server.runtime.db.lockout.findUnique({ where: { key: server.runtime.lockout.keyFor(email) } })) ?? {
      failedAttempts: 0,
      lockedUntil: null,
      lockCount: 0,
    };

  it('locks after the threshold, says so without judging the password, and doubles on the next lock up to the maximum', async () => {
    const person = await createUser(server);
    for (let i = 0; i < 2; i++) assert.doesNotMatch(pageText(((await attemptLogin(server, client, person.email, 'wrong-password')) as Page).html), LOCKED);
    const third = (await attemptLogin(server, client, person.email, 'wrong-password')) as Page;
    assert.match(pageText(third.html), LOCKED);
    const first = await lockRow(person.email);
    const firstLock = first.lockedUntil!.getTime() - server.runtime.clock.now();
    assert.ok(firstLock > 0 && firstLock <= 60_000, `first lock ${firstLock} ms`);

    // While locked, the right password gets the same message: nothing is learnt.
    const right = (await attemptLogin(server, client, person.email, person.password)) as Page;
    assert.equal(right.status, 401);
    assert.match(pageText(right.html), LOCKED);

    advanceClock(server, firstLock + 100); // the lock's end, on the server's clock
    for (let i = 0; i < 3; i++) await attemptLogin(server, client, person.email, 'wrong-again');
    const second = await lockRow(person.email);
    const secondLock = second.lockedUntil!.getTime() - server.runtime.clock.now();
    assert.ok(secondLock > 60_000 && secondLock <= 120_000, `second lock doubled: ${secondLock} ms`);
    assert.equal(second.lockCount, 2);

    advanceClock(server, secondLock + 100);
    for (let i = 0; i < 3; i++) await attemptLogin(server, client, person.email, 'wrong-again');
    const third2 = await lockRow(person.email);
    assert.ok(third2.lockedUntil!.getTime() - server.runtime.clock.now() <= 150_000, 'capped at LOCKOUT_MAX_SECONDS');

    const events = (await server.runtime.audit.list({ userId: person.id, limit: 100 })).map((e) => e.type);
    assert.equal(events.filter((t) => t === 'account_locked').length, 3);
  });

  it('a success resets the counter', async () => {
    const person = await createUser(server);
    for (let i = 0; i < 2; i++) await attemptLogin(server, client, person.email, 'wrong-password');
    const ok = await attemptLogin(server, client, person.email, person.password);
    assert.ok(!('status' in ok) || (ok as Page).status !== 401);
    const row = await lockRow(person.email);
    assert.equal(row.failedAttempts, 0);
    for (let i = 0; i < 2; i++) await attemptLogin(server, client, person.email, 'wrong-password');
    assert.equal((await lockRow(person.email)).lockedUntil, null, 'two failures after a success do not lock');
  });

  it('an unknown email "locks" the same way, so the message reveals nothing', async () => {
    let last: Page | undefined;
    for (let i = 0; i < 4; i++) last = (await attemptLogin(server, client, 'ghost@example.test', 'whatever123')) as Page;
    assert.match(pageText(last!.html), LOCKED);
  });
});

describe('lockout under parallel attempts (each password check reserved before it runs)', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    // A realistic bcrypt cost, so that checks overlap as they would in production.
    server = await startTestServer({ LOCKOUT_THRESHOLD: '5', LOCKOUT_BASE_SECONDS: '60', BCRYPT_COST: '10' });
    client = await registerClient(server);
  });
  after(() => server.stop());

  const reasons = async (userId: string) =>
    (await server.runtime.audit.list({ userId, limit: 100 })).filter((e) => e.type === 'login_failed').map((e) => e.detail?.reason);

  it('11 wrong passwords in parallel, then the right one while they are in flight: at most 5 are checked and the right one is refused', async () => {
    const person = await createUser(server);
    // Twelve sign-in pages ready first, so that only the password posts race.
    const pages = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const browser = new Browser(server.url);
        const req = await authRequest(client);
        req.url.host = new URL(server.url).host;
        return { browser, page: (await browser.navigate(req.url.href)) as Page };
      }),
    );
    const wrong = pages.slice(0, 11).map(({ browser, page }, i) => submitLogin(browser, page, person.email, `wrong-password-${i}`));
    const key = server.runtime.lockout.keyFor(person.email);
    // The right password goes once the wrong ones hold every place (on a loaded machine that can take seconds).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const row = await server.runtime.db.lockout.findUnique({ where: { key } });
      if (row && (row.failedAttempts >= 5 || row.lockedUntil)) break;
      assert.ok(Date.now() < deadline, `the wrong passwords never held the five places: ${JSON.stringify(row)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const right = (await submitLogin(pages[11]!.browser, pages[11]!.page, person.email, person.password)) as Page;
    await Promise.all(wrong);
    assert.equal(right.status, 401, 'the right password did not sign in');
    assert.match(pageText(right.html), LOCKED);
    const seen = await reasons(person.id);
    assert.ok(seen.filter((r) => r === 'bad_password').length <= 5, `checked: ${seen.join(',')}`);
    assert.ok((await server.runtime.db.lockout.findUnique({ where: { key } }))!.lockedUntil! > new Date(), 'locked');
  });

  it('the same holds across the service: 20 parallel attempts reserve at most 5 checks', async () => {
    const person = await createUser(server);
    const results = await Promise.all(Array.from({ length: 20 }, () => server.runtime.signIn.password(person.email, 'not-the-password', {})));
    assert.equal(results.filter((r) => r.kind === 'failed').length + results.filter((r) => r.kind === 'locked').length, 20);
    assert.ok((await reasons(person.id)).filter((r) => r === 'bad_password').length <= 5);
    assert.equal((await server.runtime.signIn.password(person.email, person.password, {})).kind, 'locked');
  });
});

describe('rate limits shared by two nodes on one database', () => {
  let a: TestServer;
  let b: TestServer;
  let client: TestClient;

  before(async () => {
    const limits = { RATE_LIMIT_LOGIN: '4/60', RATE_LIMIT_TOKEN: '100/60', RATE_LIMIT_FAILURES: '5/60', LOCKOUT_THRESHOLD: '4' };
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
      last = (await attemptLogin(node, client, person.email, 'wrong-password')) as Page;
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

  it('an address refused on a node is refused there from memory: 20 more posts in parallel cost no statement, and the other node refuses too', async () => {
    const post = (node: TestServer) =>
      fetch(`${node.url}/interaction/some-sign-in/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=someone%40example.com&password=guess',
        redirect: 'manual',
      });
    // Spends what is left of this address's budget (shared with the test above), until a refusal.
    let status = 0;
    for (let i = 0; i < 5 && status !== 429; i++) status = (await post(a)).status;
    assert.equal(status, 429);
    let refused: Response[] = [];
    const { spent, polls } = await statementsWhileClockStands(
      a,
      async () => {},
      async () => {
        refused = await Promise.all(Array.from({ length: 20 }, () => post(a)));
      },
    );
    assert.deepEqual(
      refused.map((r) => r.status),
      Array(20).fill(429),
    );
    assert.ok(Number(refused[19]!.headers.get('retry-after')) > 0);
    assert.equal(refused[19]!.headers.get('ratelimit-remaining'), '0');
    assert.ok(spent <= polls, `${spent} statements for 20 refused posts (back-channel polls allowed: ${polls})`);
    assert.equal((await post(b)).status, 429, 'the budget is still the one both nodes share');
  });

  it('the lockout counter is shared: failures on A and B lock the account on both', async () => {
    const person = await createUser(a);
    for (const node of [a, b, a, b]) assert.equal((await node.runtime.signIn.password(person.email, 'wrong', {})).kind !== 'ok', true);
    assert.equal((await a.runtime.signIn.password(person.email, person.password, {})).kind, 'locked');
    assert.equal((await b.runtime.signIn.password(person.email, person.password, {})).kind, 'locked');
  });

  it('failed token requests are counted across nodes: 429 in OAuth JSON once the failure budget is spent', async () => {
    const results = [];
    for (const node of [a, b, a, b, a, b]) {
      const res = await fetch(`${node.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      results.push({ status: res.status, headers: res.headers, body: (await res.json()) as { error: string; error_description: string } });
    }
    assert.deepEqual(
      results.map((r) => r.status),
      [400, 400, 400, 400, 400, 429],
    );
    const limited = results[5]!;
    assert.equal(limited.body.error, 'too_many_requests');
    assert.match(limited.body.error_description, /too many failed requests from this address: at most 5 per 60 s; retry in \d+ s/);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(limited.headers.get('ratelimit-policy'), '5;w=60');
    assert.equal(results[0]!.headers.get('ratelimit-remaining'), '99', 'the per-client quota, counted on each node');
  });
});

describe('protocol limits protect without punishing (default budgets)', () => {
  let server: TestServer;
  const API = 'https://quota.example.test';
  const app = {} as { id: string; secret: string };
  const victim = {} as { id: string; secret: string };
  before(async () => {
    // The defaults, and addresses taken from X-Forwarded-For as behind a proxy.
    server = await startTestServer({ RATE_LIMIT_TOKEN: '', RATE_LIMIT_FAILURES: '', TRUST_PROXY: 'true' });
    await server.runtime.resources.create({ identifier: API, scope: 'q.read', format: 'jwt' });
    for (const [into, name] of [
      [app, 'busy backend'],
      [victim, 'victim'],
    ] as const) {
      const { client, clientSecret } = await server.runtime.clients.create({
        name,
        redirectUris: ['https://q.example.test/cb'],
        clientCredentials: true,
        apiScope: 'q.read',
      });
      Object.assign(into, { id: client.clientId, secret: clientSecret });
    }
  });
  after(() => server.stop());

  const token = async (from: string, who: { id: string; secret: string }, form: Record<string, string>) => {
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': from,
        authorization: `Basic ${Buffer.from(`${who.id}:${who.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams(form),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as { error?: string; error_description?: string } };
  };
  async function burst<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) out.push(await fn(next++));
      }),
    );
    return out;
  }

  it('a backend making 700 successful token requests in a burst from one address never sees a 429', async () => {
    const results = await burst(700, 16, () => token('198.51.100.10', app, { grant_type: 'client_credentials', resource: API }));
    const statuses = new Map<number, number>();
    for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.deepEqual([...statuses], [[200, 700]]);
    // A node of two cores serves one client 1,000-1,400 token requests a
    // second (bench/): the default quota lies above that, so a single busy
    // backend is never throttled before the node is busy.
    assert.equal(results[0]!.headers.get('ratelimit-policy'), '5000;w=1');
  });

  it('60 concurrent requests with a bad refresh token from one client: errors up to the failure budget, 429 beyond it', async () => {
    const results = await Promise.all(
      Array.from({ length: 60 }, () => token('198.51.100.20', app, { grant_type: 'refresh_token', refresh_token: 'stolen-or-made-up' })),
    );
    const refused = results.filter((r) => r.status === 429);
    assert.ok(refused.length >= 25, `429s: ${refused.length}`);
    assert.ok(results.filter((r) => r.status === 400).length <= 35);
    assert.ok(
      refused.every((r) => r.body.error === 'too_many_requests' && Number(r.headers.get('retry-after')) > 0 && r.headers.get('ratelimit-policy') === '30;w=60'),
    );
    // The address is now refused before any work, even with good credentials.
    const good = await token('198.51.100.20', app, { grant_type: 'client_credentials', resource: API });
    assert.equal(good.status, 429);
    // Another address of the same client is not.
    assert.equal((await token('198.51.100.21', app, { grant_type: 'client_credentials', resource: API })).status, 200);
  });

  it("failures made in a client's name from other addresses do not refuse its successful requests", async () => {
    const forged = { id: victim.id, secret: 'a guessed secret' };
    await Promise.all(Array.from({ length: 40 }, (_, i) => token(`203.0.113.${i + 1}`, forged, { grant_type: 'client_credentials', resource: API })));
    const ok = await token('198.51.100.30', victim, { grant_type: 'client_credentials', resource: API });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const failing = await token('198.51.100.30', victim, { grant_type: 'refresh_token', refresh_token: 'nope' });
    assert.equal(failing.status, 429, 'its own failures are throttled: the client is over its failure budget');
    assert.match(failing.body.error_description!, /too many failed requests for client/);
  });
});
