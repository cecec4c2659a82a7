// A resource server built on stock software accepts Latchkey API keys:
// Apache with mod_oauth2 takes the key from X-API-Key and introspects it
// (RFC 7662, no caching, so revocation is seen at once), and verifies the
// JWT a key was exchanged for against the JWKS, offline. Nothing here is
// ours but the authorization server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apacheMissing, startApache, type Apache } from '../helpers/apache.ts';
import { exchange, resourceServerClient } from '../helpers/api-keys.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const BILLING = 'https://billing.example.test';
const VAULT = 'https://vault.example.test';
const missing = apacheMissing();
if (missing) console.log(`# SKIPPED the Apache mod_oauth2 resource-server test: ${missing}`);

describe('Apache with mod_oauth2 as a resource server for API keys', { skip: missing ? `Apache with mod_oauth2 is not installed: ${missing}` : false }, () => {
  let server: TestServer;
  let apache: Apache;
  let person: Awaited<ReturnType<typeof createUser>>;

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read', ttl: 600 });
    await server.runtime.resources.create({ identifier: VAULT, scope: 'vault.open' });
    const rs = await resourceServerClient(server, [BILLING]);
    person = await createUser(server);
    const claimHeader = 'Header always set X-Sub "%{OAUTH2_CLAIM_sub}e"';
    apache = await startApache({
      keyed: [
        'AuthType oauth2',
        'OAuth2AcceptTokenIn header name=X-API-Key&type=',
        // expiry=0: no caching of answers, so a revoked key is refused on its next request.
        `OAuth2TokenVerify introspect ${server.url}/token/introspection ` +
          `introspect.auth=client_secret_basic&client_id=${encodeURIComponent(rs.id)}&client_secret=${encodeURIComponent(rs.secret)}&expiry=0`,
        'Require valid-user',
        claimHeader,
      ].join('\n'),
      jwt: ['AuthType oauth2', `OAuth2TokenVerify jwks_uri ${server.url}/jwks jwks_uri.ssl_verify=false`, 'Require valid-user', claimHeader].join('\n'),
    });
  });
  after(async () => {
    await apache?.stop();
    await server?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${apache.url}/${path}/ok.txt`, { headers });
  const newKey = () => server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'apache', scope: 'invoices.read', resource: BILLING });

  it("a valid key in X-API-Key → 200, with the key's owner as sub in the header Apache sets from the claim", async () => {
    const { key } = await newKey();
    const res = await get('keyed', { 'x-api-key': key });
    assert.equal(res.status, 200, apache.errorLog());
    assert.equal(await res.text(), 'protected content\n');
    assert.equal(res.headers.get('x-sub'), person.id);
  });

  it("with Require valid-user, a key made for another API is refused (401); an unbound key for this API's scopes is let in", async () => {
    // Anyone's unbound key for another API, presented to this one: introspection says inactive, so Apache refuses it.
    const other = await server.runtime.apiKeys.create({ owner: { userId: (await createUser(server)).id }, name: 'vault', scope: 'vault.open' });
    assert.equal((await get('keyed', { 'x-api-key': other.key })).status, 401);
    const unbound = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'unbound', scope: 'invoices.read' });
    const res = await get('keyed', { 'x-api-key': unbound.key });
    assert.equal(res.status, 200, apache.errorLog());
    assert.equal(res.headers.get('x-sub'), person.id);
  });

  it('a revoked key → 401 on its very next request; a mistyped one and no header at all → 401', async () => {
    const { key, record } = await newKey();
    assert.equal((await get('keyed', { 'x-api-key': key })).status, 200, apache.errorLog());
    await server.runtime.apiKeys.revoke(record.id);
    assert.equal((await get('keyed', { 'x-api-key': key })).status, 401);
    assert.equal((await get('keyed', { 'x-api-key': `${key.slice(0, -1)}x` })).status, 401);
    assert.equal((await get('keyed')).status, 401);
  });

  it('a JWT the key was exchanged for, in Authorization: Bearer, is verified offline against the JWKS → 200', async () => {
    const { key } = await newKey();
    const r = await exchange(server, { subject_token: key, resource: BILLING });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const res = await get('jwt', { authorization: `Bearer ${r.body.access_token}` });
    assert.equal(res.status, 200, apache.errorLog());
    assert.equal(res.headers.get('x-sub'), person.id);
    // The key itself is no JWT: the offline location refuses it, as it refuses no token at all.
    assert.equal((await get('jwt', { authorization: `Bearer ${key}` })).status, 401);
    assert.equal((await get('jwt')).status, 401);
  });
});
