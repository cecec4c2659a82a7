// /api/v1/me/api-keys with a person's access token, as a first-party app
// calls it — and as attackers would: no scope, a machine token, someone
// else's key id, bad bodies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, createUser, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { importJWK, SignJWT } from 'jose';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';
import { loadSigningJwks } from '../../src/services/secrets/signing-keys.ts';
import { apiKeyView } from '../../src/api/views.ts';

const BILLING = 'https://billing.example.test';

describe("JSON API: a person's own API keys", () => {
  let server: TestServer;
  let api: string;
  let aliceToken: string;
  let bobToken: string;
  let otherApiToken: string;

  let alice: Awaited<ReturnType<typeof createUser>>;
  async function personToken(scope: string, person: Awaited<ReturnType<typeof createUser>>, apiScope = 'api-keys', resource = `${server.issuer}/api`) {
    const app = await registerClient(server, { apiScope });
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { resource, scope: `openid ${scope}` });
    return tokens.access_token;
  }
  const call = (path: string, token: string | undefined, init: RequestInit = {}) =>
    fetch(`${server.url}/api/v1${path}`, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    });

  before(async () => {
    server = await startTestServer();
    api = `${server.issuer}/api`;
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read invoices.write' });
    await server.runtime.resources.create({ identifier: 'https://other.example.test', scope: 'other.read' });
    alice = await createUser(server);
    const bob = await createUser(server);
    aliceToken = await personToken('api-keys', alice);
    bobToken = await personToken('api-keys', bob);
    otherApiToken = await personToken('other.read', alice, 'other.read', 'https://other.example.test');
  });
  after(() => server.stop());

  it("Latchkey's own API resource is registered at start-up with the api-keys scope", async () => {
    assert.equal((await server.runtime.resources.find(api))?.scope, 'api-keys');
  });

  it('create (the key once, 201 with Location), list, get, revoke; revocation is seen at introspection at once', async () => {
    const created = await call('/me/api-keys', aliceToken, {
      method: 'POST',
      body: JSON.stringify({ name: 'ci', scope: 'invoices.read', resource: BILLING, expires: '30d', allowed_ips: ['10.0.0.0/8'] }),
    });
    assert.equal(created.status, 201);
    const body = (await created.json()) as Record<string, string>;
    assert.match(body.key!, /^lk_test_/);
    assert.equal(created.headers.get('location'), `/api/v1/me/api-keys/${body.id}`);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const listed = (await (await call('/me/api-keys', aliceToken)).json()) as { api_keys: Record<string, unknown>[] };
    assert.deepEqual(
      listed.api_keys.map((k) => k.id),
      [body.id],
    );
    assert.ok(!JSON.stringify(listed).includes(body.key!), 'never the key again');
    const one = (await (await call(`/me/api-keys/${body.id}`, aliceToken)).json()) as Record<string, unknown>;
    assert.deepEqual(one.allowed_ips, ['10.0.0.0/8']);
    const rs = await resourceServerClient(server, [BILLING]);
    assert.equal((await introspect(server, rs, { token: body.key!, caller_ip: '10.1.2.3' })).body.active, true);
    assert.equal((await call(`/me/api-keys/${body.id}`, aliceToken, { method: 'DELETE' })).status, 204);
    assert.deepEqual((await introspect(server, rs, { token: body.key!, caller_ip: '10.1.2.3' })).body, { active: false });
  });

  it("another person's key is 404 to get and to delete, and stays active", async () => {
    const created = (await (
      await call('/me/api-keys', aliceToken, { method: 'POST', body: JSON.stringify({ name: 'mine', scope: 'invoices.read' }) })
    ).json()) as Record<string, string>;
    assert.equal((await call(`/me/api-keys/${created.id}`, bobToken)).status, 404);
    const del = await call(`/me/api-keys/${created.id}`, bobToken, { method: 'DELETE' });
    assert.equal(del.status, 404);
    assert.match(del.headers.get('content-type')!, /problem\+json/);
    assert.equal((await server.runtime.apiKeys.get(created.id!)).revokedAt, null);
    const bobs = (await (await call('/me/api-keys', bobToken)).json()) as { api_keys: unknown[] };
    assert.deepEqual(bobs.api_keys, []);
  });

  it('bad bodies: 400 naming each bad field; a service refusal is a 400 problem too', async () => {
    const res = await call('/me/api-keys', aliceToken, {
      method: 'POST',
      body: JSON.stringify({ name: '', scope: 'a  b', expires: 'soon', allowed_ips: 'x', extra: 1 }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: { pointer: string }[]; request_id: string };
    assert.deepEqual(body.errors.map((e) => e.pointer).sort(), ['#/allowed_ips', '#/expires', '#/extra', '#/name', '#/scope']);
    assert.equal(body.request_id, res.headers.get('x-request-id'));
    const ceiling = await call('/me/api-keys', aliceToken, { method: 'POST', body: JSON.stringify({ name: 'x', scope: 'root' }) });
    assert.equal(ceiling.status, 400);
    assert.match(((await ceiling.json()) as { detail: string }).detail, /not defined by any registered API/);
    const cidr = await call('/me/api-keys', aliceToken, {
      method: 'POST',
      body: JSON.stringify({ name: 'x', scope: 'invoices.read', allowed_ips: ['10.0.0.0/33'] }),
    });
    assert.equal(cidr.status, 400);
  });

  it('without a token 401; without the api-keys scope 403; a machine token 403; other audience 401', async () => {
    const none = await call('/me/api-keys', undefined);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('content-type')!, /problem\+json/);
    assert.equal((await call('/me/api-keys', otherApiToken)).status, 401, 'a token for another API is not for this one');
    // A person's token for this API, signed with the server's own key, without the api-keys scope.
    const jwk = (await loadSigningJwks(server.runtime.db, server.runtime.box)).keys.find((k) => k.alg === 'RS256' && !k.key_ops)!;
    const now = Math.floor(Date.now() / 1000);
    const noScope = await new SignJWT({
      iss: server.issuer,
      aud: api,
      sub: alice.id,
      client_id: 'some-app',
      scope: 'openid',
      iat: now,
      exp: now + 300,
      jti: 'no-scope',
    })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt' })
      .sign(await importJWK(jwk, 'RS256'));
    for (const [method, path] of [
      ['GET', '/me/api-keys'],
      ['POST', '/me/api-keys'],
      ['DELETE', '/me/api-keys/key_abc'],
    ] as const) {
      const r = await call(path, noScope, { method, ...(method === 'POST' ? { body: JSON.stringify({ name: 'no-scope', scope: 'invoices.read' }) } : {}) });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.match(r.headers.get('www-authenticate')!, /error="insufficient_scope", scope="api-keys"/);
    }
    assert.deepEqual(
      (await server.runtime.apiKeys.list({ owner: { userId: alice.id } })).filter((k) => k.name === 'no-scope'),
      [],
      'nothing created without the scope',
    );
    // A service account granted the scope is still not a person.
    const sa = await server.runtime.clients.create({ name: 'm', redirectUris: [], clientCredentials: true, apiScope: 'api-keys' });
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${sa.client.clientId}:${sa.clientSecret}`).toString('base64')}`,
      },
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

  it("an API key has one shape: this API, the admin API (and the CLI's --json) show the same fields, from the same schema", async () => {
    const created = (await (
      await call('/me/api-keys', aliceToken, { method: 'POST', body: JSON.stringify({ name: 'shape', scope: 'invoices.read', expires: '30d' }) })
    ).json()) as Record<string, unknown>;
    const mine = (await (await call(`/me/api-keys/${created.id}`, aliceToken)).json()) as Record<string, unknown>;
    // What the admin API's routes and `admin api-key show --json` answer for the same key.
    assert.deepEqual(mine, apiKeyView(await server.runtime.admin.apiKeys.get(String(created.id)), server.runtime.clock.now()));
    assert.deepEqual(mine.owner, { kind: 'person', id: alice.id });
    const ours = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as Record<string, any>;
    const admins = (await (await fetch(`${server.url}/admin/api/v1/openapi.json`)).json()) as Record<string, any>;
    assert.deepEqual(ours.components.schemas.ApiKey, admins.components.schemas.ApiKey);
    assert.deepEqual(Object.keys(ours.components.schemas.ApiKey.properties).sort(), Object.keys(mine).sort());
  });
});
