// How many API keys one owner can pile up, and how fast: at most
// API_KEY_MAX_PER_OWNER live keys, even for creations fired all at once; at
// most RATE_LIMIT_API_KEYS creations per person per window (refused ones do
// not count, other people are not touched); and lists answered a page at a
// time (JSON API, admin API, account page). Tried as a script holding a
// person's token would: forty POSTs in parallel.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signInToAccount } from '../helpers/account.ts';
import { adminClient, bootstrapAdmin, tokenFor } from '../helpers/admin-api.ts';
import { Browser, csrfToken, pageText, type Page } from '../helpers/browser.ts';
import { adminCli, errorLines } from '../helpers/cli.ts';
import { codeFlow, createUser, registerClient, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://ledger.example.test';

async function setUp(env: Record<string, string>) {
  const server = await startTestServer(env);
  await server.runtime.resources.create({ identifier: API, scope: 'ledger.read' });
  const app = await registerClient(server, { apiScope: 'api-keys' });
  return { server, app };
}

function jsonApi(server: TestServer) {
  return {
    async tokenOf(app: TestClient, person: TestPerson) {
      return (await codeFlow(app, new Browser(server.url), person, { resource: `${server.issuer}/api`, scope: 'openid api-keys' })).tokens.access_token;
    },
    create: (token: string, body: Record<string, unknown> = {}) =>
      fetch(`${server.url}/api/v1/me/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'k', scope: 'ledger.read', ...body }),
      }),
    list: (token: string, query = '') => fetch(`${server.url}/api/v1/me/api-keys${query}`, { headers: { authorization: `Bearer ${token}` } }),
  };
}

describe('at most API_KEY_MAX_PER_OWNER live keys per owner', () => {
  let server: TestServer;
  let app: TestClient;
  before(async () => {
    ({ server, app } = await setUp({ RATE_LIMIT_API_KEYS: 'off' }));
  });
  after(() => server.stop());

  it('forty creations at once leave twenty keys; the rest are told why; a revoked or expired key makes room', async () => {
    const api = jsonApi(server);
    const person = await createUser(server);
    const token = await api.tokenOf(app, person);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => api.create(token, { name: `burst ${i}` })));
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 20, statuses.join(','));
    assert.ok(
      statuses.every((s) => s === 201 || s === 409),
      statuses.join(','),
    );
    const refused = answers.find((r) => r.status === 409)!;
    assert.match(refused.headers.get('content-type')!, /problem\+json/);
    assert.match(((await refused.json()) as { detail: string }).detail, /already has 20 live API keys, the most allowed: revoke one/);
    const keys = await server.runtime.apiKeys.list({ owner: { userId: person.id } });
    assert.equal(keys.length, 20, 'and no half-made key is left behind');
    const created = (await server.runtime.audit.list({ userId: person.id, type: 'api_key_created', limit: 1000 })).length;
    assert.equal(created, 20, 'only the kept keys are in the audit trail');

    assert.equal((await api.create(token)).status, 409);
    await server.runtime.apiKeys.revoke(keys[0]!.id);
    await server.runtime.db.apiKey.update({ where: { id: keys[1]!.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.equal((await api.create(token)).status, 201);
    assert.equal((await api.create(token)).status, 201);
    assert.equal((await api.create(token)).status, 409);
  });

  it("the cap holds for operators and service accounts too, one owner's cap does not touch another's", async () => {
    const cli = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
    const sa = (await server.runtime.serviceAccounts.create({ name: 'many', scope: 'ledger.read', generateKey: 'ES256' })).account.clientId;
    const made = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) => server.runtime.apiKeys.create({ owner: { clientId: sa }, name: `sa ${i}`, scope: 'ledger.read' })),
    );
    assert.equal(made.filter((m) => m.status === 'fulfilled').length, 20);
    const r = await cli('api-key', 'create', '--owner', sa, '--name', 'one more', '--scope', 'ledger.read');
    assert.equal(r.code, 1);
    assert.match(errorLines(r.stderr)[0]!, /already has 20 live API keys/);
    const other = await createUser(server);
    assert.equal((await cli('api-key', 'create', '--owner', other.id, '--name', 'mine', '--scope', 'ledger.read')).code, 0);
  });
});

describe('RATE_LIMIT_API_KEYS: creations per person', () => {
  let server: TestServer;
  let app: TestClient;
  before(async () => {
    ({ server, app } = await setUp({ RATE_LIMIT_API_KEYS: '3/3600' }));
  });
  after(() => server.stop());

  it('ten at once: three are made, the rest 429 with Retry-After; refused requests cost nothing; another person is not touched', async () => {
    const api = jsonApi(server);
    const person = await createUser(server);
    const token = await api.tokenOf(app, person);
    // Refused for their input first: these are given back.
    for (const bad of [{ scope: 'root' }, { expires: '99999w' }, { allowed_ips: ['10.0.0.0/33'] }, { scope: 'root' }])
      assert.equal((await api.create(token, bad)).status, 400);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => api.create(token, { name: `burst ${i}` })));
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 3, statuses.join(','));
    const limited = answers.filter((r) => r.status === 429);
    assert.equal(limited.length, 7);
    assert.ok(Number(limited[0]!.headers.get('retry-after')) > 3000);
    assert.match(((await limited[0]!.json()) as { detail: string }).detail, /you made 3 API keys in 1 hour, the most allowed; retry in \d+ s/);
    assert.equal((await server.runtime.apiKeys.list({ owner: { userId: person.id } })).length, 3);

    // The same address, another person: a budget of their own.
    const other = await createUser(server);
    assert.equal((await api.create(await api.tokenOf(app, other))).status, 201);

    // The account page spends the same budget, after the password.
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const page = (await browser.navigate(`${server.url}/account/api-keys/new`)) as Page;
    const posted = (await browser.navigate(`${server.url}/account/api-keys`, {
      form: { csrf: csrfToken(page.html), name: 'one more', scope: 'ledger.read', password: person.password },
    })) as Page;
    assert.equal(posted.status, 429);
    assert.match(pageText(posted.html), /You made the most keys allowed for now\. Try again in \d+ minutes?\./);
    assert.equal((await server.runtime.apiKeys.list({ owner: { userId: person.id } })).length, 3);
  });

  it("operators' creations (CLI, admin API) are not limited", async () => {
    const person = await createUser(server);
    for (let i = 0; i < 5; i++)
      await server.runtime.admin.apiKeys.create({ kind: 'cli', osUser: 'test' }, { owner: { userId: person.id }, name: `op ${i}`, scope: 'ledger.read' });
    assert.equal((await server.runtime.apiKeys.list({ owner: { userId: person.id } })).length, 5);
  });
});

describe('lists of keys come a page at a time', () => {
  let server: TestServer;
  let app: TestClient;
  let person: TestPerson;
  let ids: string[];
  before(async () => {
    ({ server, app } = await setUp({ RATE_LIMIT_API_KEYS: 'off' }));
    person = await createUser(server);
    // More than a page, most of them revoked (the cap counts live keys; the list shows all).
    ids = [];
    for (let i = 0; i < 55; i++) {
      const { record } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: `key ${String(i).padStart(2, '0')}`, scope: 'ledger.read' });
      if (i < 50) await server.runtime.apiKeys.revoke(record.id);
      ids.push(record.id);
    }
  });
  after(() => server.stop());

  it('the JSON API: limit and cursor, every key once, in order; a made-up cursor is a 400 naming it', async () => {
    const api = jsonApi(server);
    const token = await api.tokenOf(app, person);
    const first = (await (await api.list(token)).json()) as { api_keys: { id: string }[]; next_cursor?: string };
    assert.equal(first.api_keys.length, 50, 'fifty by default');
    assert.ok(first.next_cursor);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await api.list(token, `?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { api_keys: { id: string }[]; next_cursor?: string };
      assert.ok(body.api_keys.length <= 7);
      seen.push(...body.api_keys.map((k) => k.id));
      cursor = body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, ids);
    for (const query of ['?cursor=bm9wZQ', '?limit=0', '?limit=201']) {
      const bad = await api.list(token, query);
      assert.equal(bad.status, 400, query);
      assert.match(bad.headers.get('content-type')!, /problem\+json/);
    }
    // Another person's cursor shows them nothing of this person's.
    const stranger = await createUser(server);
    const theirs = (await (await api.list(await api.tokenOf(app, stranger), `?cursor=${encodeURIComponent(first.next_cursor!)}`)).json()) as {
      api_keys: unknown[];
    };
    assert.deepEqual(theirs.api_keys, []);
  });

  it('the admin API pages its list of keys the same way', async () => {
    const token = await tokenFor(server, await bootstrapAdmin(server));
    const call = adminClient(server);
    const first = await call('GET', `/api-keys?owner_id=${person.id}&limit=30`, { token });
    assert.equal(first.status, 200);
    assert.equal(first.body.items.length, 30);
    const second = await call('GET', `/api-keys?owner_id=${person.id}&limit=30&cursor=${encodeURIComponent(first.body.next_cursor)}`, { token });
    assert.equal(second.body.items.length, 25);
    assert.equal(second.body.next_cursor, undefined);
  });

  it('the account page shows fifty keys and a link to the rest; a bad link shows the first ones with a message', async () => {
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const page = (await browser.navigate(`${server.url}/account/api-keys`)) as Page;
    const names = (p: Page) => [...p.html.matchAll(/<strong>(key \d\d)<\/strong>/g)].map((m) => m[1]);
    assert.equal(names(page).length, 50);
    assert.equal(names(page)[0], 'key 00');
    const more = page.html.match(/href="(\/account\/api-keys\?keys=[^"#]+)">More keys/)![1]!;
    const next = (await browser.navigate(`${server.url}${more.replace(/&amp;/g, '&')}`)) as Page;
    assert.deepEqual(names(next), ['key 50', 'key 51', 'key 52', 'key 53', 'key 54']);
    assert.match(next.html, /href="\/account\/api-keys">First keys/);
    const bad = (await browser.navigate(`${server.url}/account/api-keys?keys=made-up`)) as Page;
    assert.equal(bad.status, 200);
    assert.match(pageText(bad.html), /That link to a later page of your API keys is not valid; here are the first ones/);
    assert.equal(names(bad)[0], 'key 00');
  });
});
