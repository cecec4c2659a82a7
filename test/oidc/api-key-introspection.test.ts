// RFC 7662 introspection of API keys, as resource servers (and attackers) call it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createUser } from '../helpers/relying-party.ts';
import { introspect, narrowServiceAccount, resourceServerClient, statementCount, statementsWhileClockStands } from '../helpers/api-keys.ts';

const BILLING = 'https://billing.example.test';
const SHIPPING = 'https://shipping.example.test';

describe('API keys at the introspection endpoint', () => {
  let server: TestServer;
  let billingRs: { id: string; secret: string };
  let shippingRs: { id: string; secret: string };
  let app: { id: string; secret: string };
  let person: Awaited<ReturnType<typeof createUser>>;
  let saId: string;

  before(async () => {
    // The token counts' audit flush and the key refresh, which write on their own timers, kept out of the statement counts.
    server = await startTestServer({ AUDIT_FLUSH_INTERVAL: '3600', KEY_REFRESH_INTERVAL: '3600' });
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read invoices.write' });
    await server.runtime.resources.create({ identifier: SHIPPING, scope: 'parcels.read' });
    billingRs = await resourceServerClient(server, [BILLING]);
    shippingRs = await resourceServerClient(server, [SHIPPING]);
    const c = await server.runtime.clients.create({ name: 'plain app', redirectUris: [], clientCredentials: true, apiScope: 'invoices.read' });
    app = { id: c.client.clientId, secret: c.clientSecret! };
    person = await createUser(server);
    saId = (await server.runtime.serviceAccounts.create({ name: 'exporter', scope: 'invoices.read parcels.read', generateKey: 'ES256' })).account.clientId;
  });
  after(() => server.stop());

  const personKey = (input: Partial<Parameters<TestServer['runtime']['apiKeys']['create']>[0]> = {}) =>
    server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'script', scope: 'invoices.read', ...input });

  it("answers active with the key's owner, scope and times, token_type api_key", async () => {
    const { key, record } = await personKey({ expires: '90d', resource: BILLING });
    const r = await introspect(server, billingRs, { token: key });
    assert.equal(r.status, 200);
    assert.equal(r.body.active, true);
    assert.equal(r.body.token_type, 'api_key');
    assert.equal(r.body.sub, person.id);
    assert.equal(r.body.client_id, 'latchkey-api-keys');
    assert.equal(r.body.scope, 'invoices.read');
    assert.equal(r.body.aud, BILLING);
    assert.equal(r.body.iat, Math.floor(record.createdAt.getTime() / 1000));
    assert.equal(r.body.exp, Math.floor(record.expiresAt!.getTime() / 1000));
    const hinted = await introspect(server, billingRs, { token: key, token_type_hint: 'api_key' });
    assert.equal(hinted.body.active, true);
  });

  it('a one-character change, a truncation or another environment is refused without a database lookup', async () => {
    const { key, record } = await personKey();
    const flipped = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    await introspect(server, billingRs, { token: key }); // the caller's client is cached from here on
    // its last-use write has landed
    await waitFor(async () => (await server.runtime.db.apiKey.findUniqueOrThrow({ where: { id: record.id } })).lastUsedAt !== null);
    // Thirty mistyped keys cost no lookup; well-formed unknown ones one each. The only
    // statements allowed are the back-channel logout's looks for notices owed: the
    // allowance follows the time the requests took, not a guess.
    const { spent: badCost, polls } = await statementsWhileClockStands(
      server,
      async () => assert.deepEqual((await introspect(server, billingRs, { token: flipped })).body, { active: false }),
      async () => {
        for (let i = 0; i < 30; i++) {
          const bad = [flipped, key.slice(0, -1), key.replace('_test_', '_live_')][i % 3]!;
          assert.deepEqual((await introspect(server, billingRs, { token: bad })).body, { active: false });
        }
      },
    );
    assert.ok(badCost <= polls, `${badCost} statements for 30 mistyped keys (back-channel polls allowed: ${polls})`);
    const wellFormedUnknown = (await personKey()).key;
    await server.runtime.db.apiKey.deleteMany({ where: { display: `${wellFormedUnknown.slice(0, 14)}…` } });
    const mid = await statementCount(server);
    for (let i = 0; i < 10; i++) assert.deepEqual((await introspect(server, billingRs, { token: wellFormedUnknown })).body, { active: false });
    assert.ok((await statementCount(server)) - mid >= 10, 'the control: one lookup per well-formed key');
  });

  it('only the hash is stored: the key appears nowhere in the database', async () => {
    const { key, record } = await personKey();
    const row = await server.runtime.db.apiKey.findUniqueOrThrow({ where: { id: record.id } });
    const stored = JSON.stringify(row);
    assert.ok(!stored.includes(key) && !stored.includes(key.slice(8, 40)), 'no secret part stored');
    assert.match(row.display, /^lk_test_[0-9A-Za-z]{6}…$/);
    assert.ok(key.startsWith(row.display.slice(0, -1)));
  });

  it('who may ask: a bound key answers its own resource server only; an unbound one the resource servers its scopes meet; never a plain client', async () => {
    const bound = (await personKey({ resource: BILLING })).key;
    const unbound = (await personKey()).key;
    assert.equal((await introspect(server, billingRs, { token: bound })).body.active, true);
    assert.deepEqual((await introspect(server, shippingRs, { token: bound })).body, { active: false });
    assert.deepEqual((await introspect(server, app, { token: bound })).body, { active: false });
    assert.equal((await introspect(server, billingRs, { token: unbound })).body.active, true);
    assert.deepEqual((await introspect(server, shippingRs, { token: unbound })).body, { active: false }, 'an invoices.read key is nothing to the shipping API');
    assert.deepEqual((await introspect(server, app, { token: unbound })).body, { active: false });
    const wrongSecret = await introspect(server, { id: billingRs.id, secret: 'nope' }, { token: bound });
    assert.equal(wrongSecret.status, 401, 'the provider still authenticates the caller');
  });

  it("an unbound key is active only where its scopes meet the caller's APIs, narrowed to them, with them as aud", async () => {
    // The attack: a person's key made for one API, presented to every other API's resource server.
    const keysApi = 'https://keys.example.test';
    await server.runtime.resources.create({ identifier: keysApi, scope: 'vault.open' });
    const keysRs = await resourceServerClient(server, [keysApi]);
    const { key } = await personKey({ scope: 'invoices.write' });
    const answers = await Promise.all([keysRs, shippingRs].map((rs) => introspect(server, rs, { token: key })));
    for (const r of answers) assert.deepEqual(r.body, { active: false });
    // Where it does belong, it says so.
    const billing = (await introspect(server, billingRs, { token: key })).body;
    assert.equal(billing.active, true);
    assert.equal(billing.aud, BILLING);
    assert.equal(billing.scope, 'invoices.write');

    // A key spanning two APIs, at a resource server of both and of each.
    const both = (await personKey({ scope: 'invoices.read parcels.read' })).key;
    const twoApis = await resourceServerClient(server, [BILLING, SHIPPING, keysApi]);
    const wide = (await introspect(server, twoApis, { token: both })).body;
    assert.deepEqual(wide.aud, [BILLING, SHIPPING]);
    assert.equal(wide.scope, 'invoices.read parcels.read');
    const shipping = (await introspect(server, shippingRs, { token: both })).body;
    assert.equal(shipping.aud, SHIPPING);
    assert.equal(shipping.scope, 'parcels.read', "only what it carries at the caller's API");
    // A service account's unbound key alike.
    const sa = await server.runtime.apiKeys.create({ owner: { clientId: saId }, name: 'k', scope: 'parcels.read' });
    assert.deepEqual((await introspect(server, billingRs, { token: sa.key })).body, { active: false });
    assert.equal((await introspect(server, shippingRs, { token: sa.key })).body.aud, SHIPPING);
  });

  it('expired, revoked, unknown and owner-disabled keys answer exactly {"active": false}', async () => {
    const revoked = await personKey();
    await server.runtime.apiKeys.revoke(revoked.record.id);
    const expired = await personKey({ expires: '1m' });
    await server.runtime.db.apiKey.update({ where: { id: expired.record.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const unknown = (await personKey()).key;
    await server.runtime.db.apiKey.deleteMany({ where: { display: `${unknown.slice(0, 14)}…` } });
    for (const token of [revoked.key, expired.key, unknown]) {
      const r = await introspect(server, billingRs, { token });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { active: false });
    }
  });

  it("disabling the owner deactivates its keys at once; enabling brings a service account's back, never a person's", async () => {
    const other = await createUser(server);
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: other.id }, name: 'k', scope: 'invoices.read' });
    const sa = await server.runtime.apiKeys.create({ owner: { clientId: saId }, name: 'k', scope: 'invoices.read' });
    assert.equal((await introspect(server, billingRs, { token: key })).body.active, true);
    assert.equal((await introspect(server, billingRs, { token: sa.key })).body.sub, saId);
    await server.runtime.users.setDisabled(other.id, true);
    await server.runtime.serviceAccounts.setDisabled(saId, true);
    assert.deepEqual((await introspect(server, billingRs, { token: key })).body, { active: false });
    assert.deepEqual((await introspect(server, billingRs, { token: sa.key })).body, { active: false });
    await server.runtime.users.setDisabled(other.id, false);
    await server.runtime.serviceAccounts.setDisabled(saId, false);
    assert.deepEqual((await introspect(server, billingRs, { token: key })).body, { active: false }, "a person's keys were revoked");
    assert.equal((await introspect(server, billingRs, { token: sa.key })).body.active, true);
    // Deleting the owner deletes the keys.
    const fresh = (await server.runtime.apiKeys.create({ owner: { userId: other.id }, name: 'k2', scope: 'invoices.read' })).key;
    assert.equal((await introspect(server, billingRs, { token: fresh })).body.active, true);
    await server.runtime.db.user.delete({ where: { id: other.id } });
    assert.deepEqual((await introspect(server, billingRs, { token: fresh })).body, { active: false });
  });

  it('address ranges: IPv4, IPv6 and CIDR both ways; no address given means inactive', async () => {
    const { key } = await personKey({ allowIps: ['203.0.113.0/24', '2001:db8:abcd::/48', '198.51.100.7'] });
    const at = async (ip?: string) => (await introspect(server, billingRs, { token: key, ...(ip ? { caller_ip: ip } : {}) })).body.active;
    assert.equal(await at('203.0.113.77'), true);
    assert.equal(await at('::ffff:203.0.113.5'), true, 'IPv4-mapped IPv6');
    assert.equal(await at('203.0.114.1'), false);
    assert.equal(await at('198.51.100.7'), true);
    assert.equal(await at('198.51.100.8'), false);
    assert.equal(await at('2001:db8:abcd:12::1'), true);
    assert.equal(await at('2001:db8:abce::1'), false);
    assert.equal(await at('not-an-ip'), false);
    assert.equal(await at(), false);
  });

  it("a service account's key answers with no more than the account is granted now", async () => {
    const wide = (await server.runtime.serviceAccounts.create({ name: 'narrowing', scope: 'invoices.read invoices.write', generateKey: 'ES256' })).account
      .clientId;
    const { key } = await server.runtime.apiKeys.create({ owner: { clientId: wide }, name: 'k', scope: 'invoices.read invoices.write' });
    assert.equal((await introspect(server, billingRs, { token: key })).body.scope, 'invoices.read invoices.write');
    await narrowServiceAccount(server, wide, 'invoices.read');
    assert.equal((await introspect(server, billingRs, { token: key })).body.scope, 'invoices.read');
  });

  it('the scope ceiling: a service account key within its grant, a person key within what registered APIs define', async () => {
    await assert.rejects(server.runtime.apiKeys.create({ owner: { clientId: saId }, name: 'k', scope: 'invoices.write' }), /beyond what service account/);
    await assert.rejects(personKey({ scope: 'root' }), /not defined by any registered API/);
    await assert.rejects(personKey({ scope: 'parcels.read', resource: BILLING }), /not defined by https:\/\/billing/);
    await assert.rejects(
      personKey({ scope: 'api-keys' }),
      /scope api-keys is not for keys: only .*Latchkey's own API/,
      "Latchkey's own API scopes are not for keys",
    );
  });

  it('last use is written at most once a minute per key, at once for a new address, which is audited once', async () => {
    const { key, record } = await personKey();
    for (let i = 0; i < 5; i++) await introspect(server, billingRs, { token: key, caller_ip: '192.0.2.1' });
    await waitFor(async () => (await server.runtime.db.apiKey.findUniqueOrThrow({ where: { id: record.id } })).lastUsedIp === '192.0.2.1');
    const first = await server.runtime.db.apiKey.findUniqueOrThrow({ where: { id: record.id } });
    for (let i = 0; i < 5; i++) await introspect(server, billingRs, { token: key, caller_ip: '192.0.2.1' });
    await new Promise((r) => setTimeout(r, 100));
    const again = await server.runtime.db.apiKey.findUniqueOrThrow({ where: { id: record.id } });
    assert.equal(again.lastUsedAt!.getTime(), first.lastUsedAt!.getTime(), 'not rewritten within the minute');
    await introspect(server, billingRs, { token: key, caller_ip: '192.0.2.2' });
    await waitFor(async () => (await server.runtime.db.apiKey.findUniqueOrThrow({ where: { id: record.id } })).lastUsedIp === '192.0.2.2');
    // (The hour's count of such uses, api_key_new_addresses, is written at the next flush: test/services/api-key-address-audit.test.ts.)
    const events = async () =>
      (await server.runtime.audit.list({ userId: person.id, limit: 1000 })).filter((e) => e.detail?.key_id === record.id && e.type !== 'api_key_new_addresses');
    // The address's audit record follows its last-use write (a statement of its own): a loaded PostgreSQL run read between the two.
    await waitFor(async () => (await events()).some((e) => e.ip === '192.0.2.2')).catch(() => undefined);
    assert.deepEqual((await events()).map((e) => `${e.type} ${e.ip ?? ''}`).sort(), [
      'api_key_created ',
      'api_key_new_address 192.0.2.1',
      'api_key_new_address 192.0.2.2',
    ]);
  });

  it('sub in every active answer: client credentials and jwt-bearer tokens carry the client as sub', async () => {
    const opaque = 'https://opaque.example.test';
    await server.runtime.resources.create({ identifier: opaque, scope: 'o.read', format: 'opaque' });
    const rs = await resourceServerClient(server, [opaque]);
    const c = await server.runtime.clients.create({ name: 'cc', redirectUris: [], clientCredentials: true, apiScope: 'o.read' });
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.client.clientId}:${c.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: opaque, scope: 'o.read' }),
    });
    const { access_token } = (await res.json()) as { access_token: string };
    const r = await introspect(server, rs, { token: access_token });
    assert.equal(r.body.active, true);
    assert.equal(r.body.sub, c.client.clientId);
  });

  it('inactive answers are alike and cost no more than an active one: unknown keys and checksum failures', async () => {
    const { key } = await personKey();
    const unknown = (await personKey()).key;
    await server.runtime.db.apiKey.deleteMany({ where: { display: `${unknown.slice(0, 14)}…` } });
    const mistyped = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
    // CPU time of this process (the server runs in it), not wall-clock time: a
    // busy machine delays a request without making it cost more.
    const cost = async (token: string) => {
      const start = process.cpuUsage();
      const r = await fetch(`${server.url}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${billingRs.id}:${billingRs.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token }),
      });
      const text = await r.text();
      const used = process.cpuUsage(start);
      const headers = [...r.headers.keys()]
        .filter((h) => !['date', 'x-request-id'].includes(h))
        .sort()
        .join(' ');
      return { ms: (used.user + used.system) / 1000, answer: `${r.status} ${headers} ${text}` };
    };
    const samples: Record<'active' | 'unknown' | 'mistyped', number[]> = { active: [], unknown: [], mistyped: [] };
    const answers = new Set<string>();
    for (let i = 0; i < 30; i++) {
      samples.active.push((await cost(key)).ms);
      for (const kind of ['unknown', 'mistyped'] as const) {
        const { ms, answer } = await cost(kind === 'unknown' ? unknown : mistyped);
        samples[kind].push(ms);
        answers.add(answer);
      }
    }
    assert.equal(answers.size, 1, `one answer for both, status, headers and body alike: ${[...answers].join(' | ')}`);
    assert.match([...answers][0]!, / \{"active":false\}$/);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const active = median(samples.active);
    for (const kind of ['unknown', 'mistyped'] as const) {
      const m = median(samples[kind]);
      assert.ok(m <= active * 2 + 2, `${kind}: median ${m.toFixed(2)} ms of CPU per answer, an active key's ${active.toFixed(2)} ms`);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 3000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail('condition not met in time');
}
