// Rate limits on the paths API keys take, as an attacker would test them:
// a key exchange needs no client, so no shared client name may carry one
// key holder's quota or failures to another; and the JSON API's 401s spend
// the same per-address failure budget as the protocol endpoints' failures.
// Addresses come from X-Forwarded-For, as behind the proxy (TRUST_PROXY).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createUser } from '../helpers/relying-party.ts';
import { API_KEY_CLIENT_ID } from '../../src/oidc/grants/token-exchange.ts';

const BILLING = 'https://billing.example.test';

describe('rate limits of the API key paths', () => {
  let server: TestServer;
  let person: Awaited<ReturnType<typeof createUser>>;

  before(async () => {
    server = await startTestServer({ RATE_LIMIT_TOKEN: '40/60', RATE_LIMIT_FAILURES: '10/60', TRUST_PROXY: 'true' });
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read', ttl: 600 });
    person = await createUser(server);
  });
  after(() => server.stop());

  const newKey = async () => (await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'invoices.read' })).key;
  // As a generic OAuth library sends it: with the key client's client_id in the body.
  const exchangeFrom = async (from: string, form: Record<string, string>) => {
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token_type: 'urn:latchkey:params:oauth:token-type:api-key',
        client_id: API_KEY_CLIENT_ID,
        resource: BILLING,
        ...form,
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  it("bad keys sprayed from other addresses never refuse another address's valid key, nor replace its errors with 429", async () => {
    const valid = await newKey();
    // Well-formed keys nobody holds: each costs a lookup and answers invalid_grant.
    const bad = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const key = await newKey();
        await server.runtime.db.apiKey.deleteMany({ where: { display: `${key.slice(0, 14)}…` } });
        return key;
      }),
    );
    const sprayed = await Promise.all(Array.from({ length: 72 }, (_, i) => exchangeFrom(`203.0.113.${(i % 6) + 1}`, { subject_token: bad[i % 5]! })));
    assert.ok(
      sprayed.every((r) => r.status === 400 || r.status === 429),
      JSON.stringify(sprayed.map((r) => r.status)),
    );
    assert.ok(
      sprayed.some((r) => r.status === 429),
      'the attacker is throttled',
    );

    const ok = await exchangeFrom('198.51.100.40', { subject_token: valid });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const wrongResource = await exchangeFrom('198.51.100.40', { subject_token: valid, resource: 'https://nowhere.example.test' });
    assert.equal(wrongResource.status, 400, JSON.stringify(wrongResource.body));
    assert.equal(wrongResource.body.error, 'invalid_target', 'its own error, with the reason');
    // The attacking address is over its failure budget: refused before any work, whatever it sends.
    assert.equal((await exchangeFrom('203.0.113.1', { subject_token: valid })).status, 429);
  });

  it("the quota of exchanges is per key: one key's burst does not spend another's", async () => {
    const busy = await newKey();
    const quiet = await newKey();
    const burst = await Promise.all(Array.from({ length: 45 }, () => exchangeFrom('198.51.100.50', { subject_token: busy })));
    assert.equal(burst.filter((r) => r.status === 200).length, 40, JSON.stringify(burst.map((r) => r.status)));
    const refused = burst.find((r) => r.status === 429)!;
    assert.match(refused.body.error_description!, /too many requests for this API key: at most 40 per 60 s/);
    // The same address, the same client_id, another key.
    const other = await exchangeFrom('198.51.100.50', { subject_token: quiet });
    assert.equal(other.status, 200, JSON.stringify(other.body));
  });

  it('JSON API: 401s spend the per-address failure budget, then 429 as a problem document; other addresses are unaffected', async () => {
    const call = (from: string, token: string) =>
      fetch(`${server.url}/api/v1/me/api-keys`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': from } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await call('192.0.2.77', `forged.${i}.token`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429]);
    const refused = await call('192.0.2.77', 'forged.again.token');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    const problem = (await refused.json()) as { status: number; detail: string };
    assert.equal(problem.status, 429);
    assert.match(problem.detail, /too many failed requests from this address/);
    // Another address gets its own answer: the 401 that says what to send.
    const elsewhere = await call('192.0.2.78', 'forged.token.x');
    assert.equal(elsewhere.status, 401);
  });

  it('admin API: guessed admin tokens spend the same per-address budget, then 429', async () => {
    const call = (from: string, token: string) =>
      fetch(`${server.url}/admin/api/v1/clients`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': from } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await call('192.0.2.90', `forged.admin.${i}`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429]);
    const refused = await call('192.0.2.90', 'forged.admin.again');
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await call('192.0.2.91', 'forged.admin.x')).status, 401, 'another address is unaffected');
  });
});
