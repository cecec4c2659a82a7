// RFC 7662 introspection of API keys, as resource servers (and attackers) call it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createUser } from '../helpers/relying-party.ts';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';

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
    server = await startTestServer();
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
});
