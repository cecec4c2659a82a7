// RFC 8693: an API key exchanged for a short-lived JWT access token, verified
// against the published JWKS as a resource server would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { createUser } from '../../helpers/relying-party.ts';
import { exchange, narrowServiceAccount } from '../../helpers/api-keys.ts';

const BILLING = 'https://billing.example.test';
const OPAQUE = 'https://opaque.example.test';

describe('token exchange of an API key (RFC 8693)', () => {
  let server: TestServer;
  let person: Awaited<ReturnType<typeof createUser>>;
  let saId: string;

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read invoices.write', ttl: 600 });
    await server.runtime.resources.create({ identifier: OPAQUE, scope: 'o.read', format: 'opaque' });
    person = await createUser(server);
    saId = (await server.runtime.serviceAccounts.create({ name: 'exporter', scope: 'invoices.read', generateKey: 'ES256' })).account.clientId;
  });
  after(() => server.stop());

  it('is advertised in discovery', async () => {
    const meta = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
    assert.ok(meta.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:token-exchange'));
  });

  it("a person's key → a JWT for the resource as that person, verified against the JWKS, narrower scope on request", async () => {
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'invoices.read invoices.write' });
    const r = await exchange(server, { subject_token: key, resource: BILLING, scope: 'invoices.read' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.scope, 'invoices.read');
    const { payload, protectedHeader } = await jwtVerify(r.body.access_token!, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
      issuer: server.issuer,
      audience: BILLING,
      typ: 'at+jwt',
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, person.id);
    assert.equal(payload.client_id, 'latchkey-api-keys');
    assert.equal(payload.scope, 'invoices.read');
    assert.ok(payload.exp! - payload.iat! <= 600, 'the resource lifetime');
  });

  it("a service account's key → the account's own token (sub = the account), never beyond its current grant", async () => {
    const { key } = await server.runtime.apiKeys.create({ owner: { clientId: saId }, name: 'k', scope: 'invoices.read' });
    const r = await exchange(server, { subject_token: key, resource: BILLING });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { payload } = await jwtVerify(r.body.access_token!, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
      issuer: server.issuer,
      audience: BILLING,
    });
    assert.equal(payload.sub, saId);
    assert.equal(payload.client_id, saId);

    // The account's grant narrowed after the key was made: the key narrows with it.
    const wide = (await server.runtime.serviceAccounts.create({ name: 'narrowing', scope: 'invoices.read invoices.write', generateKey: 'ES256' })).account
      .clientId;
    const both = await server.runtime.apiKeys.create({ owner: { clientId: wide }, name: 'k', scope: 'invoices.read invoices.write' });
    assert.equal((await exchange(server, { subject_token: both.key, resource: BILLING })).body.scope, 'invoices.read invoices.write');
    await narrowServiceAccount(server, wide, 'invoices.read');
    const narrowed = await exchange(server, { subject_token: both.key, resource: BILLING });
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
    assert.equal(narrowed.body.scope, 'invoices.read');
    const beyond = await exchange(server, { subject_token: both.key, resource: BILLING, scope: 'invoices.write' });
    assert.equal(beyond.body.error, 'invalid_scope', JSON.stringify(beyond.body));
  });

  it('the token never outlives the key', async () => {
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'invoices.read', expires: '2m' });
    const r = await exchange(server, { subject_token: key, resource: BILLING });
    assert.equal(r.status, 200);
    assert.ok(Number(r.body.expires_in) <= 120);
  });

  it('refusals say what to fix: invalid_grant, invalid_target, invalid_scope, invalid_request', async () => {
    const { key, record } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'invoices.read', resource: BILLING });
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ subject_token: key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a'), resource: BILLING }, 'invalid_grant', /checksum/],
      [{ subject_token: key, resource: OPAQUE }, 'invalid_target', /bound to https:\/\/billing/],
      [{ subject_token: key, resource: BILLING, scope: 'invoices.write' }, 'invalid_scope', /invoices.write/],
      [{ subject_token: key }, 'invalid_target', /resource is required/],
      [{ subject_token: key, resource: 'https://nowhere.example.test' }, 'invalid_target', /bound to/],
      [
        { subject_token: key, resource: BILLING, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' },
        'invalid_request',
        /subject_token_type must be urn:latchkey/,
      ],
      [{ subject_token: key, resource: BILLING, actor_token: 'x', actor_token_type: 'y' }, 'invalid_request', /delegation/],
    ];
    for (const [form, error, description] of cases) {
      const r = await exchange(server, form);
      assert.equal(r.status, 400, JSON.stringify(form));
      assert.equal(r.body.error, error, JSON.stringify(r.body));
      assert.match(r.body.error_description!, description);
    }
    await server.runtime.apiKeys.revoke(record.id);
    const revoked = await exchange(server, { subject_token: key, resource: BILLING });
    assert.equal(revoked.body.error, 'invalid_grant');
    assert.match(revoked.body.error_description!, /revoked/);
  });

  it('an unbound key is refused at an opaque resource with the reason', async () => {
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'o.read' });
    const r = await exchange(server, { subject_token: key, resource: OPAQUE });
    assert.equal(r.body.error, 'invalid_target');
    assert.match(r.body.error_description!, /introspect/);
  });

  it('a key with address ranges is exchanged only from an allowed address', async () => {
    const from = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'invoices.read', allowIps: ['127.0.0.0/8'] });
    assert.equal((await exchange(server, { subject_token: from.key, resource: BILLING })).status, 200);
    const elsewhere = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'invoices.read', allowIps: ['2001:db8::/32'] });
    const r = await exchange(server, { subject_token: elsewhere.key, resource: BILLING });
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description!, /address/);
  });

  it("no other client may run an exchange in the key client's name with a client_id of its own", async () => {
    const c = await server.runtime.clients.create({ name: 'app', redirectUris: [], clientCredentials: true, apiScope: 'invoices.read' });
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'invoices.read' });
    const r = await exchange(server, { subject_token: key, resource: BILLING, client_id: c.client.clientId });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
  });
});
