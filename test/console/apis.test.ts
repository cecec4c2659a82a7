// The console's APIs pages, as an administrator uses them over HTTP: register
// an API (a refused value explained, nothing saved), change its scopes, scope
// roles, format and lifetime and see the next token follow, and choose which
// apps may introspect its tokens (the removal after a page naming the app);
// each change audited with the administrator as actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertionFor, JWT_BEARER } from '../helpers/admin-api.ts';
import { introspect } from '../helpers/api-keys.ts';
import { type Browser, pageText } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor, type Admin } from './console-helpers.ts';

const API = 'https://cmdb.example.test/v1';
const apiPath = (id: string) => `/admin/apis/${encodeURIComponent(id)}`;

describe('the admin console: APIs', () => {
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
  const API_FORM = { scope: 'cmdb.read', scope_roles: '', format: 'jwt', ttl: '600' };
  /** A token for `resource` by the jwt-bearer grant: the server's whole answer. */
  async function token(who: { clientId: string; key: import('jose').JWK }, resource: string, scope: string) {
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: await assertionFor(server, who), resource, scope }),
    });
    return (await res.json()) as { access_token?: string; scope?: string; error?: string; error_description?: string };
  }
  const auditOf = async (type: string) => (await server.runtime.audit.list({ type })).map((e) => `${e.type} by ${e.actor}`);

  it('registers an API; a refused value is explained and nothing is saved', async () => {
    const bad = await post('/admin/apis', { ...API_FORM, identifier: 'cmdb-without-scheme' });
    assert.equal(bad.status, 400);
    assert.match(pageText(await bad.text()), /That was not saved: resource identifier "cmdb-without-scheme" is not an absolute URI/);
    const badTtl = await post('/admin/apis', { ...API_FORM, identifier: API, ttl: '5' });
    assert.equal(badTtl.status, 400);
    assert.match(pageText(await badTtl.text()), /That was not saved: .*60 to 86400/);
    assert.ok(!(await server.runtime.resources.list()).some((r) => r.identifier === API), 'nothing registered');

    const created = await post('/admin/apis', {
      ...API_FORM,
      identifier: API,
      scope: 'cmdb.read cmdb.admin',
      scope_roles: 'cmdb.admin=ops,dba\n',
      claims: 'email',
    });
    assert.equal(created.status, 303);
    assert.equal(created.headers.get('location'), `${apiPath(API)}?notice=api-created`);
    const r = await server.runtime.resources.get(API);
    assert.deepEqual(
      { scope: r.scope, scopeRoles: r.scopeRoles, format: r.format, ttl: r.ttl, claims: r.claims, machinesOnly: r.machinesOnly },
      { scope: 'cmdb.read cmdb.admin', scopeRoles: { 'cmdb.admin': ['ops', 'dba'] }, format: 'jwt', ttl: 600, claims: ['email'], machinesOnly: false },
    );
    const page = await browser.page(`${server.url}${apiPath(API)}?notice=api-created`);
    assert.match(pageText(page.html), /The API was registered/);
    assert.match(pageText(page.html), /cmdb\.admin needs one of the roles ops, dba/);
    assert.match(pageText((await browser.page(`${server.url}/admin/apis`)).html), /https:\/\/cmdb\.example\.test\/v1/);
    assert.deepEqual(await auditOf('resource.created'), [`resource.created by person:${admin.id}`]);
  });

  it("edits an API's scopes, roles and format in the console, and the next token and introspection follow", async () => {
    const { account, privateJwk } = await server.runtime.serviceAccounts.create({ name: 'sync', scope: 'cmdb.read cmdb.write', generateKey: 'ES256' });
    const sync = { clientId: account.clientId, key: privateJwk! };
    const before = await token(sync, API, 'cmdb.read cmdb.write');
    assert.notEqual(before.scope, 'cmdb.read cmdb.write', `the API does not define cmdb.write yet: ${JSON.stringify(before)}`);

    // cmdb.write added, the cmdb.admin restriction taken out (its line removed), opaque tokens.
    const saved = await post(apiPath(API), { ...API_FORM, scope: 'cmdb.read cmdb.write cmdb.admin', scope_roles: '', format: 'opaque', ttl: '900' });
    assert.equal(saved.headers.get('location'), `${apiPath(API)}?notice=api-saved`);
    const r = await server.runtime.resources.get(API);
    assert.deepEqual({ scopeRoles: r.scopeRoles, format: r.format, ttl: r.ttl, claims: r.claims }, { scopeRoles: {}, format: 'opaque', ttl: 900, claims: [] });

    const after = await token(sync, API, 'cmdb.read cmdb.write');
    assert.equal(after.scope, 'cmdb.read cmdb.write', JSON.stringify(after));
    assert.equal(after.access_token!.split('.').length, 1, 'opaque now');
    const [row] = await server.runtime.audit.list({ type: 'resource.updated' });
    assert.equal(row?.actor, `person:${admin.id}`);
    // The claims box left unticked clears the claims, as the form shows them.
    assert.deepEqual(Object.keys(row?.detail ?? {}).sort(), ['claims', 'format', 'scope', 'scope_roles', 'ttl']);

    // A refused change (a role restriction on a scope the API does not define) saves nothing.
    const refused = await post(apiPath(API), { ...API_FORM, scope: 'cmdb.read', scope_roles: 'cmdb.nothing=ops' });
    assert.equal(refused.status, 400);
    assert.match(pageText(await refused.text()), /That was not saved: scope roles name "cmdb\.nothing"/);
    assert.equal((await server.runtime.resources.get(API)).scope, 'cmdb.read cmdb.write cmdb.admin');
  });

  it('lets an app introspect its tokens and stops it after a page naming the app: introspection then answers inactive', async () => {
    const { client, clientSecret } = await server.runtime.clients.create({ name: 'CMDB backend', redirectUris: ['https://cmdb.example.test/cb'] });
    const backend = { id: client.clientId, secret: clientSecret! };
    const { account, privateJwk } = await server.runtime.serviceAccounts.create({ name: 'reader', scope: 'cmdb.read', generateKey: 'ES256' });
    const issued = await token({ clientId: account.clientId, key: privateJwk! }, API, 'cmdb.read');
    assert.ok(issued.access_token, JSON.stringify(issued));
    const check = async () => (await introspect(server, backend, { token: issued.access_token! })).body.active;
    assert.equal(await check(), false, 'not one of its resource servers yet');

    const unknown = await post(`${apiPath(API)}/introspectors`, { client_id: 'no-such-app' });
    assert.equal(unknown.status, 400);
    assert.match(pageText(await unknown.text()), /There is no app with the client id “no-such-app”/);

    const added = await post(`${apiPath(API)}/introspectors`, { client_id: backend.id });
    assert.equal(added.headers.get('location'), `${apiPath(API)}?notice=introspector-added`);
    assert.equal(await check(), true);
    assert.match(pageText((await browser.page(`${server.url}${apiPath(API)}`)).html), /Apps that may introspect its tokens .* CMDB backend Client id /);

    const confirm = await browser.page(`${server.url}${apiPath(API)}/introspectors/${backend.id}/remove`);
    const text = pageText(confirm.html);
    assert.match(text, /Stop CMDB backend introspecting tokens for https:\/\/cmdb\.example\.test\/v1\?/);
    assert.match(
      text,
      new RegExp(`When CMDB backend \\(client id ${backend.id}\\) asks about a token for https://cmdb\\.example\\.test/v1, it is told the token is inactive`),
    );
    const removed = await post(`${apiPath(API)}/introspectors/${backend.id}/remove`);
    assert.equal(removed.headers.get('location'), `${apiPath(API)}?notice=introspector-removed`);
    assert.equal(await check(), false, 'inactive to it from the next request');
    assert.deepEqual((await server.runtime.clients.get(backend.id)).metadata.resource_servers, undefined);
    const rows = await server.runtime.audit.list({ clientId: backend.id, type: 'client.updated' });
    assert.deepEqual(
      rows.map((e) => [e.actor, JSON.stringify(e.detail)]),
      [
        [`person:${admin.id}`, JSON.stringify({ resource_servers: { from: [API], to: null } })],
        [`person:${admin.id}`, JSON.stringify({ resource_servers: { from: null, to: [API] } })],
      ],
    );
  });
});
