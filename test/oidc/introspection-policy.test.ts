// Who may introspect what (RFC 7662 §4): the token's own client, and the
// resource servers of the token's audience. Every other authenticated
// client learns nothing: a live token looks exactly like a dead one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser } from '../helpers/browser.ts';
import { adminCli } from '../helpers/cli.ts';
import { codeFlow, createUser, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API_A = 'https://orders.example.test';
const API_B = 'https://hr.example.test';

interface Creds {
  id: string;
  secret: string;
}

describe('introspection is answered only to those entitled to the answer', () => {
  let server: TestServer;
  const x = {} as Creds; // client credentials at API A
  const y = {} as Creds; // client credentials at API B
  const rsA = {} as Creds; // the resource server of API A
  const rsB = {} as Creds; // the resource server of API B
  let app: TestClient;

  const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: API_A, scope: 'orders.read', format: 'opaque' });
    await server.runtime.resources.create({ identifier: API_B, scope: 'hr.read', format: 'opaque' });
    const make = async (into: Creds, input: Parameters<TestServer['runtime']['clients']['create']>[0]) => {
      const { client, clientSecret } = await server.runtime.clients.create(input);
      Object.assign(into, { id: client.clientId, secret: clientSecret });
    };
    await make(x, { name: 'x', redirectUris: [], clientCredentials: true, apiScope: 'orders.read' });
    await make(y, { name: 'y', redirectUris: [], clientCredentials: true, apiScope: 'hr.read' });
    app = await registerClient(server);
    // Created last: the first test must not depend on them.
    await make(rsA, { name: 'orders API', redirectUris: [], resourceServers: [API_A] }).catch(() => undefined);
    await make(rsB, { name: 'hr API', redirectUris: [], resourceServers: [API_B] }).catch(() => undefined);
  });
  after(() => server.stop());

  const basic = (c: Creds) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;
  async function post(path: string, who: Creds, form: Record<string, string>) {
    const res = await fetch(`${server.issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(who) },
      body: new URLSearchParams(form),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const tokenFor = async (who: Creds, resource: string) => {
    const r = await post('/token', who, { grant_type: 'client_credentials', resource });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return String(r.body.access_token);
  };
  const introspect = (who: Creds, token: string) => post('/token/introspection', who, { token });

  it("another client's access token looks dead to a client that is neither its owner nor its resource server", async () => {
    const tokenX = await tokenFor(x, API_A);
    const appCreds = { id: app.clientId, secret: app.clientSecret! };
    // Every other confidential client, all at once.
    const answers = await Promise.all([y, appCreds].flatMap((who) => [introspect(who, tokenX), introspect(who, tokenX)]));
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.deepEqual(a.body, { active: false });
    }
    const own = await introspect(x, tokenX);
    assert.equal(own.body.active, true);
    assert.equal(own.body.client_id, x.id);
  });

  it('a resource server sees the access tokens addressed to its API, and only those', async () => {
    const [tokenA, tokenB] = await Promise.all([tokenFor(x, API_A), tokenFor(y, API_B)]);
    const seen = await introspect(rsA, tokenA);
    assert.equal(seen.body.active, true, JSON.stringify(seen.body));
    assert.equal(seen.body.aud, API_A);
    assert.equal(seen.body.scope, 'orders.read');
    assert.deepEqual((await introspect(rsA, tokenB)).body, { active: false });
    assert.deepEqual((await introspect(rsB, tokenA)).body, { active: false });
  });

  it("a person's refresh token is introspectable by its own client only", async () => {
    const person = await createUser(server);
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' });
    const refresh = tokens.refresh_token!;
    const appCreds = { id: app.clientId, secret: app.clientSecret! };
    for (const who of [x, rsA, rsB]) assert.deepEqual((await introspect(who, refresh)).body, { active: false });
    for (const who of [x, rsA]) assert.deepEqual((await introspect(who, tokens.access_token)).body, { active: false });
    assert.equal((await introspect(appCreds, refresh)).body.active, true);
  });

  it("a deleted client's and a disabled service account's stored tokens die with them", async () => {
    const doomed = {} as Creds;
    const { client, clientSecret } = await server.runtime.clients.create({
      name: 'doomed',
      redirectUris: [],
      clientCredentials: true,
      apiScope: 'orders.read',
    });
    Object.assign(doomed, { id: client.clientId, secret: clientSecret });
    const t1 = await tokenFor(doomed, API_A);
    assert.equal((await introspect(rsA, t1)).body.active, true);
    await server.runtime.clients.delete(doomed.id);
    assert.deepEqual((await introspect(rsA, t1)).body, { active: false });

    const sa = await server.runtime.serviceAccounts.create({ name: 'doomed-sa', scope: 'orders.read', generateKey: 'ES256' });
    const { importJWK, SignJWT } = await import('jose');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      iss: sa.account.clientId,
      sub: sa.account.clientId,
      aud: server.issuer,
      iat: now,
      exp: now + 60,
      jti: crypto.randomUUID(),
    })
      .setProtectedHeader({ alg: 'ES256', kid: sa.privateJwk!.kid })
      .sign(await importJWK(sa.privateJwk!, 'ES256'));
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, resource: API_A }),
    });
    const t2 = ((await res.json()) as { access_token: string }).access_token;
    assert.equal((await introspect(rsA, t2)).body.active, true);
    await server.runtime.serviceAccounts.setDisabled(sa.account.clientId, true);
    assert.deepEqual((await introspect(rsA, t2)).body, { active: false });
  });

  it('client create --client-credentials --resource-server URI: it may introspect its API and gets no token for any API', async () => {
    const r = await admin('client', 'create', '--name', 'Orders API', '--client-credentials', '--resource-server', API_A, '--json');
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout) as { client_id: string; client_secret: string };
    assert.deepEqual(Object.keys(created).sort(), ['client_id', 'client_secret']);
    const shown = JSON.parse((await admin('client', 'show', created.client_id, '--json')).stdout) as { resource_servers: string[] };
    assert.deepEqual(shown.resource_servers, [API_A]);
    const rs = { id: created.client_id, secret: created.client_secret };

    assert.equal((await introspect(rs, await tokenFor(x, API_A))).body.active, true);
    for (const form of [{ resource: API_A }, { resource: API_A, scope: 'orders.read' }, { resource: API_B }] as Record<string, string>[]) {
      const t = await post('/token', rs, { grant_type: 'client_credentials', ...form });
      assert.equal(t.status, 400, JSON.stringify(t.body));
      assert.equal(t.body.error, 'invalid_target');
    }
    const unknown = await admin(
      'client',
      'create',
      '--name',
      'nope',
      '--client-credentials',
      '--resource-server',
      'https://unregistered.example.test',
      '--json',
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /resource https:\/\/unregistered\.example\.test is not registered/);
  });
});
