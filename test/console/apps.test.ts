// The console's Apps pages, as an administrator uses them over HTTP: register
// an app (its secret shown once) and sign a person in to it, edit its redirect
// URIs and scopes (a bad one explained, nothing saved), replace its secret
// with an overlap (both secrets work during it), and delete it after a page
// naming it; each change audited with the administrator as actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic } from '../helpers/api-keys.ts';
import { Browser, pageText } from '../helpers/browser.ts';
import { codeFlow, createUser, discover } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor, secretWorks as secretOk, type Admin } from './console-helpers.ts';

describe('the admin console: apps', () => {
  let server: TestServer;
  let admin: Admin;
  let browser: Browser;
  let csrf: string;

  before(async () => {
    server = await startTestServer();
    admin = await personWithFactor(server, ['latchkey-admin']);
    ({ browser, csrf } = await consoleAs(server, admin));
  });
  after(async () => {
    await server?.stop();
  });

  const post = (path: string, form: Record<string, string> = {}) => browser.request(`${server.url}${path}`, { form: { csrf, ...form } });
  const secretWorks = (clientId: string, secret: string) => secretOk(server, clientId, secret);
  const auditOf = async (clientId: string) =>
    (await server.runtime.audit.list({ clientId })).filter((e) => e.type.startsWith('client.')).map((e) => `${e.type} by ${e.actor}`);

  async function register(name: string, redirect = 'https://shop.example.test/callback') {
    const res = await post('/admin/apps', { name, redirect_uris: `${redirect}\n`, scope: 'openid email profile', api_scope: '' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const html = await res.text();
    const clientId = html.match(/id="client-id">([^<]+)</)![1]!;
    const secret = html.match(/id="client-secret">([^<]+)</)![1]!;
    return { clientId, secret, html };
  }

  it('registers an app with its secret shown once, and a person signs in to it', async () => {
    const { clientId, secret, html } = await register('Shop', 'https://shop.example.test/callback');
    assert.match(pageText(html), /Copy the secret now: it is shown this once/);
    assert.ok(secret.length >= 43, 'a secret of at least 256 bits');
    const shown = await browser.page(`${server.url}/admin/apps/${clientId}`);
    assert.doesNotMatch(shown.html, new RegExp(secret), 'never shown again');
    assert.ok(await secretWorks(clientId, secret));
    const listed = await browser.page(`${server.url}/admin/apps`);
    assert.match(pageText(listed.html), /Shop/);

    // A person signs in to it, and the app redeems the code with its secret.
    const person = await createUser(server);
    const config = await discover(server, clientId, secret);
    const { tokens } = await codeFlow(
      { clientId, clientSecret: secret, redirectUri: 'https://shop.example.test/callback', config },
      new Browser(server.url),
      person,
    );
    assert.equal(tokens.claims()?.sub, person.id);
    assert.deepEqual(await auditOf(clientId), [`client.created by person:${admin.id}`]);
  });

  it('edits redirect URIs and scopes; a refused URI is explained and nothing is saved', async () => {
    const { clientId } = await register('Blog');
    const bad = await post(`/admin/apps/${clientId}`, { name: 'Blog', redirect_uris: 'http://blog.example.test/cb', scope: 'openid' });
    assert.equal(bad.status, 400);
    assert.match(pageText(await bad.text()), /That was not saved: .*http/);
    assert.deepEqual((await server.runtime.clients.get(clientId)).metadata.redirect_uris, ['https://shop.example.test/callback']);
    const saved = await post(`/admin/apps/${clientId}`, {
      name: 'Blog',
      redirect_uris: 'https://blog.example.test/cb\nhttps://blog.example.test/cb2',
      scope: 'openid email',
      api_scope: '',
    });
    assert.equal(saved.headers.get('location'), `/admin/apps/${clientId}?notice=app-saved`);
    const app = await server.runtime.clients.get(clientId);
    assert.deepEqual(app.metadata.redirect_uris, ['https://blog.example.test/cb', 'https://blog.example.test/cb2']);
    assert.equal(app.metadata.scope, 'openid email');
    const [row] = await server.runtime.audit.list({ clientId, type: 'client.updated' });
    assert.equal(row?.actor, `person:${admin.id}`);
    assert.deepEqual(Object.keys(row?.detail ?? {}).sort(), ['redirect_uris', 'scope']);
  });

  it('replaces the secret with an overlap: both work during it; without one the old stops at once', async () => {
    const { clientId, secret: first } = await register('Billing');
    const confirm = await browser.page(`${server.url}/admin/apps/${clientId}/rotate`);
    assert.match(pageText(confirm.html), /Replace the secret of Billing\?/);
    assert.match(confirm.html, /value="86400" checked/, 'a day by default, as the CLI and the admin API');
    const rotated = await post(`/admin/apps/${clientId}/rotate`, { overlap: '3600' });
    assert.equal(rotated.status, 200);
    const second = (await rotated.text()).match(/id="client-secret">([^<]+)</)![1]!;
    assert.notEqual(second, first);
    assert.deepEqual([await secretWorks(clientId, first), await secretWorks(clientId, second)], [true, true], 'both during the overlap');

    const refused = await post(`/admin/apps/${clientId}/rotate`, { overlap: '999' });
    assert.equal(refused.status, 400, 'only the offered overlaps');
    await refused.arrayBuffer();

    const third = (await (await post(`/admin/apps/${clientId}/rotate`, { overlap: '0' })).text()).match(/id="client-secret">([^<]+)</)![1]!;
    assert.deepEqual(
      [await secretWorks(clientId, first), await secretWorks(clientId, second), await secretWorks(clientId, third)],
      [false, false, true],
      'no overlap: only the newest works',
    );
    const rows = await server.runtime.audit.list({ clientId, type: 'client.secret_rotated' });
    assert.deepEqual(
      rows.map((r) => r.actor),
      [`person:${admin.id}`, `person:${admin.id}`],
    );
  });

  it('sets and clears the default API and the flags (client credentials, device sign-in, two-step sign-in): the token endpoints follow', async () => {
    await server.runtime.resources.create({ identifier: 'https://ledger.example.test', scope: 'ledger.read' });
    const { clientId, secret } = await register('Ledger');
    const form = { name: 'Ledger', redirect_uris: 'https://shop.example.test/callback', scope: 'openid', api_scope: 'ledger.read' };
    const { device_authorization_endpoint: deviceEndpoint } = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as {
      device_authorization_endpoint: string;
    };
    const asApp = async (url: string, body: Record<string, string>) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
        body: new URLSearchParams(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const clientCredentials = () => asApp(`${server.url}/token`, { grant_type: 'client_credentials', scope: 'ledger.read' });
    const deviceCode = () => asApp(deviceEndpoint.replace(server.issuer, server.url), { scope: 'openid' });
    assert.deepEqual([(await clientCredentials()).status, (await deviceCode()).status], [400, 400], 'neither grant before');

    const bad = await post(`/admin/apps/${clientId}`, { ...form, default_resource: 'https://nope.example.test' });
    assert.equal(bad.status, 400);
    assert.match(pageText(await bad.text()), /That was not saved: .*https:\/\/nope\.example\.test is not registered/);
    assert.equal((await server.runtime.clients.get(clientId)).metadata.default_resource, undefined, 'nothing saved');

    const saved = await post(`/admin/apps/${clientId}`, {
      ...form,
      default_resource: 'https://ledger.example.test',
      client_credentials: 'on',
      device_flow: 'on',
      require_mfa: 'on',
    });
    assert.equal(saved.headers.get('location'), `/admin/apps/${clientId}?notice=app-saved`);
    const { metadata } = await server.runtime.clients.get(clientId);
    assert.equal(metadata.default_resource, 'https://ledger.example.test');
    assert.equal(metadata.latchkey_require_mfa, true);
    const token = await clientCredentials();
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal((await deviceCode()).status, 200);
    const shown = await browser.page(`${server.url}/admin/apps/${clientId}`);
    for (const flag of ['client_credentials', 'device_flow', 'require_mfa'])
      assert.match(shown.html, new RegExp(`name="${flag}" checked`), `${flag} shown ticked`);
    assert.match(shown.html, /value="https:\/\/ledger\.example\.test"/);

    // Unticked and emptied: each is taken away.
    await (await post(`/admin/apps/${clientId}`, { ...form, default_resource: '' })).arrayBuffer();
    const cleared = (await server.runtime.clients.get(clientId)).metadata;
    assert.deepEqual(
      [cleared.default_resource, cleared.latchkey_require_mfa, cleared.grant_types.includes('client_credentials')],
      [undefined, undefined, false],
    );
    assert.deepEqual([(await clientCredentials()).status, (await deviceCode()).status], [400, 400], 'neither grant after');
  });

  it('deletes an app after a page naming it: its secret stops working', async () => {
    const { clientId, secret } = await register('Old Intranet');
    const confirm = await browser.page(`${server.url}/admin/apps/${clientId}/delete`);
    const text = pageText(confirm.html);
    assert.match(text, /Delete Old Intranet\?/);
    assert.match(text, new RegExp(`Nobody can sign in to Old Intranet \\(client id ${clientId.replace(/[-]/g, '\\-')}\\)`));
    assert.match(confirm.html, />Delete Old Intranet</);
    const gone = await post(`/admin/apps/${clientId}/delete`);
    assert.equal(gone.headers.get('location'), '/admin/apps?notice=app-deleted');
    assert.equal(await secretWorks(clientId, secret), false);
    assert.equal((await browser.request(`${server.url}/admin/apps/${clientId}`)).status, 404);
    const [row] = await server.runtime.audit.list({ clientId, type: 'client.deleted' });
    assert.equal(row?.actor, `person:${admin.id}`);
  });
});
