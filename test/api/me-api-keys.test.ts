// /api/v1/me/api-keys with a person's access token, as a first-party app
// calls it — and as attackers would: no scope, a machine token, someone
// else's key id, bad bodies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, createUser, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';

const BILLING = 'https://billing.example.test';

describe('JSON API: a person\'s own API keys', () => {
  let server: TestServer;
  let api: string;
  let aliceToken: string;
  let bobToken: string;
  let noScopeToken: string;

  async function personToken(scope: string, person: Awaited<ReturnType<typeof createUser>>, apiScope = 'api-keys') {
    const app = await registerClient(server, { apiScope });
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { resource: `${server.issuer}/api`, scope: `openid ${scope}` });
    return tokens.access_token;
  }
  const call = (path: string, token: string | undefined, init: RequestInit = {}) =>
    fetch(`${server.url}/api/v1${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

  before(async () => {
    server = await startTestServer();
    api = `${server.issuer}/api`;
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read invoices.write' });
    await server.runtime.resources.create({ identifier: 'https://other.example.test', scope: 'other.read' });
    const alice = await createUser(server);
    const bob = await createUser(server);
    aliceToken = await personToken('api-keys', alice);
    bobToken = await personToken('api-keys', bob);
    noScopeToken = await personToken('other.read', alice, 'api-keys other.read').catch(() => '');
  });
  after(() => server.stop());

  it("Latchkey's own API resource is registered at start-up with the api-keys scope", async () => {
    assert.equal((await server.runtime.resources.find(api))?.scope, 'api-keys');
  });

  it('create (the key once, 201 with Location), list, get, revoke; revocation is seen at introspection at once', async () => {
    const created = await call('/me/api-keys', aliceToken, { method: 'POST', body: JSON.stringify({ name: 'ci', scope: 'invoices.read', resource: BILLING, expires: '30d', allowed_ips: ['10.0.0.0/8'] }) });
    assert.equal(created.status, 201);
    const body = (await created.json()) as Record<string, string>;
    assert.match(body.key!, /^lk_test_/);
    assert.equal(created.headers.get('location'), `/api/v1/me/api-keys/${body.id}`);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const listed = (await (await call('/me/api-keys', aliceToken)).json()) as { api_keys: Record<string, unknown>[] };
    assert.deepEqual(listed.api_keys.map((k) => k.id), [body.id]);
    assert.ok(!JSON.stringify(listed).includes(body.key!), 'never the key again');
    const one = (await (await call(`/me/api-keys/${body.id}`, aliceToken)).json()) as Record<string, unknown>;
    assert.deepEqual(one.allowed_ips, ['10.0.0.0/8']);
    const rs = await resourceServerClient(server, [BILLING]);
    assert.equal((await introspect(server, rs, { token: body.key!, caller_ip: '10.1.2.3' })).body.active, true);
    assert.equal((await call(`/me/api-keys/${body.id}`, aliceToken, { method: 'DELETE' })).status, 204);
    assert.deepEqual((await introspect(server, rs, { token: body.key!, caller_ip: '10.1.2.3' })).body, { active: false });
  });

  it("another person's key is 404 to get and to delete, and stays active", async () => {
    const created = (await (await call('/me/api-keys', aliceToken, { method: 'POST', body: JSON.stringify({ name: 'mine', scope: 'invoices.read' }) })).json()) as Record<string, string>;
    assert.equal((await call(`/me/api-keys/${created.id}`, bobToken)).status, 404);
    const del = await call(`/me/api-keys/${created.id}`, bobToken, { method: 'DELETE' });
    assert.equal(del.status, 404);
    assert.match(del.headers.get('content-type')!, /problem\+json/);
    assert.equal((await server.runtime.apiKeys.get(created.id!)).revokedAt, null);
    const bobs = (await (await call('/me/api-keys', bobToken)).json()) as { api_keys: unknown[] };
    assert.deepEqual(bobs.api_keys, []);
  });

  it('bad bodies: 400 naming each bad field; a service refusal is a 400 problem too', async () => {
    const res = await call('/me/api-keys', aliceToken, { method: 'POST', body: JSON.stringify({ name: '', scope: 'a  b', expires: 'soon', allowed_ips: 'x', extra: 1 }) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: { pointer: string }[]; request_id: string };
    assert.deepEqual(body.errors.map((e) => e.pointer).sort(), ['#/allowed_ips', '#/expires', '#/extra', '#/name', '#/scope']);
    assert.equal(body.request_id, res.headers.get('x-request-id'));
    const ceiling = await call('/me/api-keys', aliceToken, { method: 'POST', body: JSON.stringify({ name: 'x', scope: 'root' }) });
    assert.equal(ceiling.status, 400);
    assert.match(((await ceiling.json()) as { detail: string }).detail, /not defined by any registered API/);
    const cidr = await call('/me/api-keys', aliceToken, { method: 'POST', body: JSON.stringify({ name: 'x', scope: 'invoices.read', allowed_ips: ['10.0.0.0/33'] }) });
    assert.equal(cidr.status, 400);
  });

  it('without a token 401; without the api-keys scope 403; a machine token 403; other audience 401', async () => {
    assert.equal((await call('/me/api-keys', undefined)).status, 401);
    if (noScopeToken) assert.equal((await call('/me/api-keys', noScopeToken)).status, 401, 'a token for another API is not for this one');
    // A service account granted the scope is still not a person.
    const sa = await server.runtime.clients.create({ name: 'm', redirectUris: [], clientCredentials: true, apiScope: 'api-keys' });
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${sa.client.clientId}:${sa.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: api, scope: 'api-keys' }),
    });
    const machine = ((await res.json()) as { access_token: string }).access_token;
    const r = await call('/me/api-keys', machine);
    assert.equal(r.status, 403);
    assert.match(((await r.json()) as { detail: string }).detail, /person/);
  });

  it('the OpenAPI document describes these operations and is valid', async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as Record<string, any>;
    assert.ok((await new Validator().validate(doc)).valid);
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/me/api-keys', '/me/api-keys/{id}']);
    assert.deepEqual(doc.paths['/me/api-keys'].post.security, [{ latchkey: ['api-keys'] }]);
    assert.ok(doc.components.schemas.CreatedApiKey.required.includes('key'));
  });
});
