// The admin API against a live server, called the way a script does: a token
// from the jwt-bearer grant, fetch, JSON. Every route with an admin token,
// without one, with tokens that must not work; invalid bodies; If-Match.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, base64url, exportJWK, importJWK, type JWK } from 'jose';
import { adminApiResource } from '../../../src/services/admin/administration.ts';
import { adminClient, bootstrapAdmin, tokenFor, type ApiAnswer, type Signer } from '../../helpers/admin-api.ts';
import { Browser } from '../../helpers/browser.ts';
import { authRequest, codeFlow, createUser, postToken, registerClient } from '../../helpers/relying-party.ts';
import { startSecondNode, startTestServer, type TestServer } from '../../helpers/server.ts';

const CMDB = 'https://cmdb.example.test';

type Operation = { method: string; path: string; operationId: string; hasBody: boolean; streams: boolean; scope: string };

describe('admin API', () => {
  let server: TestServer;
  let call: ReturnType<typeof adminClient>;
  let admin: Signer;
  let adminToken: string;
  let readerToken: string;
  let outsiderToken: string;
  let operations: Operation[];
  const exercised = new Set<string>();

  before(async () => {
    server = await startTestServer({ REGISTRATION: 'invite' });
    call = adminClient(server);
    admin = await bootstrapAdmin(server);
    adminToken = await tokenFor(server, admin);
    const cli = { kind: 'cli' as const, osUser: 'test' };
    const reader = await server.runtime.admin.serviceAccounts.create(cli, { name: 'auditor', scope: 'latchkey:admin:read', generateKey: 'ES256' });
    readerToken = await tokenFor(server, { clientId: reader.account.clientId, key: reader.privateJwk! });
    await server.runtime.admin.resources.create(cli, { identifier: CMDB, scope: 'cmdb.read' });
    const outsider = await server.runtime.admin.serviceAccounts.create(cli, { name: 'inventory', scope: 'cmdb.read', generateKey: 'ES256' });
    outsiderToken = await tokenFor(server, { clientId: outsider.account.clientId, key: outsider.privateJwk! }, { resource: CMDB });

    const doc = (await call('GET', '/openapi.json')).body;
    operations = Object.entries(
      doc.paths as Record<
        string,
        Record<string, { operationId: string; requestBody?: { content: Record<string, unknown> }; security: Record<string, string[]>[] }>
      >,
    ).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        // JSON Lines imports read their body as a stream (application/x-ndjson), not as a JSON document.
        hasBody: op.requestBody !== undefined && !('application/x-ndjson' in op.requestBody.content),
        streams: op.requestBody !== undefined && 'application/x-ndjson' in op.requestBody.content,
        scope: Object.values(op.security[0]!)[0]![0]!,
      })),
    );
  });
  after(() => server.stop());

  /** Calls with the admin token and remembers which operation was exercised. */
  async function as(operationId: string, method: string, path: string, opts: Parameters<typeof call>[2] = {}): Promise<ApiAnswer> {
    exercised.add(operationId);
    return call(method, path, { token: adminToken, ...opts });
  }
  const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'x');

  it('lists API keys expiring within N days, never used, or last used before a time: the filter the console uses; a bad one names its field', async () => {
    const cli = { kind: 'cli' as const, osUser: 'test' };
    const owner = (await server.runtime.admin.users.create(cli, { email: `keys-${Date.now()}@example.test`, password: 'a long passphrase here' })).id;
    const make = async (name: string, expires: string) =>
      (await server.runtime.apiKeys.create({ owner: { userId: owner }, name, scope: 'cmdb.read', expires })).record.id;
    const [soon, later, used, stale] = [await make('soon', '5d'), await make('later', '60d'), await make('used', '60d'), await make('stale', '60d')];
    const now = server.runtime.clock.now();
    await server.runtime.db.apiKey.update({ where: { id: used }, data: { lastUsedAt: new Date(now - 3600_000) } });
    await server.runtime.db.apiKey.update({ where: { id: stale }, data: { lastUsedAt: new Date(now - 40 * 86_400_000) } });
    await server.runtime.apiKeys.revoke(await make('revoked soon', '3d'), {});
    const ids = async (q: string) => {
      const res = await as('listApiKeys', 'GET', `/api-keys?owner_id=${owner}&${q}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.items.map((k: { id: string }) => k.id);
    };
    assert.deepEqual(await ids('expiring_within_days=7'), [soon], 'live keys only: the revoked one is not expiring');
    assert.deepEqual(await ids('expiring_within_days=90'), [soon, later, used, stale]);
    assert.deepEqual((await ids('never_used=true')).includes(used), false);
    assert.deepEqual((await ids('never_used=true')).includes(soon), true);
    const before = new Date(now - 30 * 86_400_000).toISOString();
    assert.deepEqual(await ids(`last_used_before=${encodeURIComponent(before)}`), [stale]);
    assert.deepEqual(await ids(`expiring_within_days=90&last_used_before=${encodeURIComponent(new Date(now).toISOString())}`), [used, stale]);
    const bad = await call('GET', '/api-keys?expiring_within_days=0&last_used_before=yesterday&never_used=yes', { token: adminToken });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string; in: string }) => `${e.in}:${e.field}`).sort(), [
      'query:expiring_within_days',
      'query:last_used_before',
      'query:never_used',
    ]);
  });

  it('refuses every route without a token: 401, a Bearer challenge, a problem document with the request id', async () => {
    assert.ok(operations.length >= 25, `only ${operations.length} operations`);
    for (const op of operations) {
      const res = await call(op.method, concrete(op.path), { body: op.hasBody ? {} : undefined });
      assert.equal(res.status, 401, `${op.method} ${op.path}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="latchkey-admin"/);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal(res.body.request_id, res.headers.get('x-request-id'));
    }
  });

  it("refuses every route to a valid token for another API, and to a token for another audience's scope", async () => {
    for (const op of operations) {
      const res = await call(op.method, concrete(op.path), { token: outsiderToken, body: op.hasBody ? {} : undefined });
      assert.equal(res.status, 401, `${op.method} ${op.path}`);
      assert.match(res.body.detail, /not for this API/);
    }
  });

  it('a read-only admin token reads, and every change is 403 insufficient_scope', async () => {
    for (const op of operations) {
      const res = await call(op.method, concrete(op.path), { token: readerToken, body: op.hasBody ? {} : undefined });
      if (op.scope === 'latchkey:admin:read') {
        assert.notEqual(res.status, 401, `${op.method} ${op.path}`);
        assert.notEqual(res.status, 403, `${op.method} ${op.path}`);
      } else {
        assert.equal(res.status, 403, `${op.method} ${op.path}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="latchkey:admin"/);
      }
    }
  });

  it('every body is validated before anything happens: 400 naming each bad field', async () => {
    for (const op of operations.filter((o) => o.hasBody)) {
      const res = await call(op.method, concrete(op.path), { token: adminToken, body: { bogus_field: 1 } });
      assert.equal(res.status, 400, `${op.method} ${op.path}`);
      assert.equal(res.body.type, 'urn:latchkey:problem:validation');
      assert.ok(
        res.body.errors.some((e: { field: string; in: string }) => e.field === 'bogus_field' && e.in === 'body'),
        `${op.method} ${op.path}: ${JSON.stringify(res.body.errors)}`,
      );
    }
    for (const op of operations.filter((o) => o.streams)) {
      const res = await call(op.method, concrete(op.path), { token: adminToken, body: { bogus_field: 1 } });
      assert.equal(res.status, 415, `${op.method} ${op.path}: a JSON document is no JSON Lines body`);
      assert.match(res.body.detail, /application\/x-ndjson/);
    }
    const bad = await call('POST', '/clients', {
      token: adminToken,
      body: { client_name: '', redirect_uris: 'https://a.example.test/cb', require_mfa: 'yes' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['client_name', 'redirect_uris', 'require_mfa']);
    const notJson = await call('POST', '/users', { token: adminToken, body: '{"email":', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
    const badQuery = await call('GET', '/audit-events?since=yesterday&limit=0', { token: adminToken });
    assert.equal(badQuery.status, 400);
    assert.deepEqual(badQuery.body.errors.map((e: { field: string; in: string }) => `${e.in}:${e.field}`).sort(), ['query:limit', 'query:since']);
  });

  it('clients: create (secret once), list, show with ETag, update with If-Match, rotate, delete; 404 for unknown ids', async () => {
    const created = await as('createClient', 'POST', '/clients', { body: { client_name: 'Billing', redirect_uris: ['https://billing.example.test/cb'] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.client.client_id;
    const secret = created.body.client_secret as string;
    assert.ok(Buffer.from(secret, 'base64url').length >= 32);
    assert.equal(created.headers.get('location'), `/admin/api/v1/clients/${id}`);

    const shown = await as('getClient', 'GET', `/clients/${id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.client_name, 'Billing');
    assert.ok(!JSON.stringify(shown.body).includes(secret), 'the secret is never shown again');
    const etag = shown.headers.get('etag')!;
    assert.match(etag, /^"[\w-]+"$/);

    const listed = await as('listClients', 'GET', '/clients?limit=200');
    assert.ok(listed.body.items.some((c: { client_id: string }) => c.client_id === id));

    const changed = await as('updateClient', 'PATCH', `/clients/${id}`, { body: { client_name: 'Billing (EU)' }, headers: { 'if-match': etag } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.client_name, 'Billing (EU)');
    assert.deepEqual(changed.body.redirect_uris, ['https://billing.example.test/cb'], 'fields left out keep their value');
    assert.notEqual(changed.headers.get('etag'), etag);

    const refused = await as('updateClient', 'PATCH', `/clients/${id}`, {
      body: { redirect_uris: ['http://evil.example.test/cb'] },
      headers: { 'if-match': changed.headers.get('etag')! },
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.detail, /uses http/);

    const rotated = await as('rotateClientSecret', 'POST', `/clients/${id}/rotate-secret`, { body: { overlap_seconds: 600 } });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.client_secret, secret);
    const both = (await call('GET', `/clients/${id}`, { token: adminToken })).body.client_secrets;
    assert.deepEqual(
      both.map((s: { state: string }) => s.state),
      ['current', 'previous'],
    );

    assert.equal((await as('deleteClient', 'DELETE', `/clients/${id}`)).status, 204);
    const gone = await call('GET', `/clients/${id}`, { token: adminToken });
    assert.equal(gone.status, 404);
    assert.equal(gone.headers.get('content-type'), 'application/problem+json');
    assert.equal((await call('DELETE', `/clients/${id}`, { token: adminToken })).status, 404);
    assert.equal((await call('PATCH', '/clients/nope', { token: adminToken, body: {}, headers: { 'if-match': '*' } })).status, 404);
  });

  it('PATCH without If-Match is 428 and with a stale one 412, and neither changes anything', async () => {
    const client = (await call('POST', '/clients', { token: adminToken, body: { client_name: 'Stale', redirect_uris: ['https://stale.example.test/cb'] } }))
      .body.client;
    const user = (await call('POST', '/users', { token: adminToken, body: { email: 'stale@example.test', password: 'a long passphrase' } })).body;
    const account = (await call('POST', '/service-accounts', { token: adminToken, body: { name: 'stale', scope: 'cmdb.read', generate_key: 'ES256' } })).body
      .service_account;
    const targets = [
      { path: `/clients/${client.client_id}`, body: { client_name: 'Changed' }, field: 'client_name', unchanged: 'Stale' },
      { path: `/users/${user.id}`, body: { name: 'Changed' }, field: 'name', unchanged: null },
      { path: `/service-accounts/${account.client_id}`, body: { disabled: true }, field: 'disabled', unchanged: false },
    ];
    for (const t of targets) {
      const read = await call('GET', t.path, { token: adminToken });
      const etag = read.headers.get('etag')!;
      const missing = await call('PATCH', t.path, { token: adminToken, body: t.body });
      assert.equal(missing.status, 428, t.path);
      // Someone else changes it meanwhile (through the CLI's service, as another operator would).
      if (t.path.startsWith('/clients'))
        await server.runtime.admin.clients.update({ kind: 'cli', osUser: 'other' }, client.client_id, { scope: 'openid email' });
      if (t.path.startsWith('/users')) await server.runtime.admin.users.update({ kind: 'cli', osUser: 'other' }, user.id, { emailVerified: true });
      if (t.path.startsWith('/service-accounts'))
        await server.runtime.admin.serviceAccounts.addKeys({ kind: 'cli', osUser: 'other' }, account.client_id, [await otherKey()]);
      const stale = await call('PATCH', t.path, { token: adminToken, body: t.body, headers: { 'if-match': etag } });
      assert.equal(stale.status, 412, t.path);
      assert.equal(stale.body.type, 'urn:latchkey:problem:precondition-failed');
      assert.equal((await call('GET', t.path, { token: adminToken })).body[t.field], t.unchanged, `${t.path} unchanged`);
      exercised.add(t.path.startsWith('/clients') ? 'updateClient' : t.path.startsWith('/users') ? 'updateUser' : 'updateServiceAccount');
    }
  });

  it('users: create, search by email, show, update, password, second factor, sessions and apps; pages with an opaque cursor', async () => {
    const created = await as('createUser', 'POST', '/users', { body: { email: 'Grace@Example.test', password: 'a long passphrase', name: 'Grace' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.email, 'grace@example.test');
    assert.equal(JSON.stringify(created.body).includes('passphrase'), false);
    const id = created.body.id;
    const dup = await call('POST', '/users', { token: adminToken, body: { email: 'GRACE@example.test', password: 'a long passphrase' } });
    assert.equal(dup.status, 409);

    for (const n of [1, 2, 3])
      await call('POST', '/users', { token: adminToken, body: { email: `pager${n}@pages.example.test`, password: 'a long passphrase' } });
    const first = await as('listUsers', 'GET', '/users?email=pages.example&limit=2');
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.next_cursor);
    const second = await call('GET', `/users?email=pages.example&limit=2&cursor=${first.body.next_cursor}`, { token: adminToken });
    assert.deepEqual(
      second.body.items.map((u: { email: string }) => u.email),
      ['pager3@pages.example.test'],
    );
    assert.equal(second.body.next_cursor, undefined);
    assert.equal((await call('GET', '/users?cursor=not-a-cursor', { token: adminToken })).status, 400);

    const shown = await as('getUser', 'GET', `/users/${id}`);
    const updated = await as('updateUser', 'PATCH', `/users/${id}`, {
      body: { name: 'Grace Hopper', email: 'grace.hopper@example.test' },
      headers: { 'if-match': shown.headers.get('etag')! },
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.email, 'grace.hopper@example.test');

    assert.equal((await as('setUserPassword', 'PUT', `/users/${id}/password`, { body: { password: 'short' } })).status, 400);
    assert.equal((await as('setUserPassword', 'PUT', `/users/${id}/password`, { body: { password: 'an even longer passphrase' } })).status, 204);
    assert.equal((await as('resetUserSecondFactor', 'DELETE', `/users/${id}/second-factor`)).status, 204);

    const added = await as('addUserRole', 'PUT', `/users/${id}/roles/auditor`);
    assert.deepEqual(added.body, { id, roles: ['auditor'], changed: true });
    assert.equal((await call('PUT', `/users/${id}/roles/auditor`, { token: adminToken })).body.changed, false, 'idempotent');
    const withRole = await call('GET', `/users/${id}`, { token: adminToken });
    assert.deepEqual(withRole.body.roles, ['auditor']);
    assert.equal(withRole.headers.get('etag'), (await call('GET', `/users/${id}`, { token: adminToken })).headers.get('etag'));
    assert.equal((await call('PUT', `/users/${id}/roles/${encodeURIComponent('bad role')}`, { token: adminToken })).status, 400);
    assert.deepEqual((await as('removeUserRole', 'DELETE', `/users/${id}/roles/auditor`)).body, { id, roles: [], changed: true });
    const roleEvents = (await call('GET', `/audit-events?user_id=${id}&type=role_added`, { token: adminToken })).body.items;
    assert.deepEqual(
      roleEvents.map((e: { actor: string; detail: unknown }) => [e.actor, e.detail]),
      [[`service_account:${admin.clientId}`, { role: 'auditor' }]],
      'only the change is audited',
    );

    const invited = await as('createInvitation', 'POST', '/invitations', { body: { email: 'new.hire@example.test', name: 'New Hire' } });
    assert.equal(invited.status, 201, JSON.stringify(invited.body));
    assert.match(invited.body.url, /\/invitation\?token=/);
    assert.equal((await call('POST', '/invitations', { token: adminToken, body: { email: 'grace.hopper@example.test' } })).status, 409, 'an existing account');

    assert.deepEqual((await as('listUserSessions', 'GET', `/users/${id}/sessions`)).body, { items: [] });
    assert.deepEqual((await as('endUserSessions', 'DELETE', `/users/${id}/sessions`)).body, { sessions_ended: 0 });
    assert.equal((await as('endUserSession', 'DELETE', `/users/${id}/sessions/no-such-session`)).status, 404);
    assert.deepEqual((await as('listUserApps', 'GET', `/users/${id}/apps`)).body, { items: [] });
    assert.equal((await as('revokeUserApp', 'DELETE', `/users/${id}/apps/no-such-grant`)).status, 404);
    assert.equal((await call('GET', '/users/no-such-user/sessions', { token: adminToken })).status, 404);
  });

  it("a person's real session and authorization: listed, the app revoked (its refresh token dies), signed out everywhere", async () => {
    const app = await registerClient(server, { name: 'Diary', scope: 'openid email profile offline_access' });
    const person = await createUser(server);
    const browser = new Browser(server.url);
    const { tokens } = await codeFlow(app, browser, person, { scope: 'openid email offline_access', prompt: 'consent' });
    assert.ok(tokens.refresh_token);

    const sessions = (await call('GET', `/users/${person.id}/sessions`, { token: adminToken })).body.items;
    assert.equal(sessions.length, 1);
    assert.deepEqual(sessions[0].client_ids, [app.clientId]);
    assert.deepEqual(sessions[0].amr, ['pwd']);
    const apps = (await call('GET', `/users/${person.id}/apps`, { token: adminToken })).body.items;
    assert.deepEqual(
      apps.map((a: { client_id: string; client_name: string }) => [a.client_id, a.client_name]),
      [[app.clientId, 'Diary']],
    );

    const otherPerson = await createUser(server);
    assert.equal((await call('DELETE', `/users/${otherPerson.id}/apps/${apps[0].grant_id}`, { token: adminToken })).status, 404, "not someone else's grant");
    assert.equal(
      (await call('DELETE', `/users/${otherPerson.id}/sessions/${sessions[0].id}`, { token: adminToken })).status,
      404,
      "not someone else's session",
    );

    assert.equal((await call('DELETE', `/users/${person.id}/apps/${apps[0].grant_id}`, { token: adminToken })).status, 204);
    const refreshed = await postToken(server, app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    assert.equal(refreshed.status, 400, "the revoked authorization's refresh token no longer works");
    assert.deepEqual((await call('GET', `/users/${person.id}/apps`, { token: adminToken })).body.items, []);

    assert.equal((await call('DELETE', `/users/${person.id}/sessions/${sessions[0].id}`, { token: adminToken })).status, 204);
    assert.deepEqual((await call('GET', `/users/${person.id}/sessions`, { token: adminToken })).body.items, []);
    const again = await browser.navigate((await authRequest(app)).url.href);
    assert.ok(!('redirect' in again) && again.html.includes('/login"'), 'the browser must sign in again');
  });

  it('service accounts: create (private key once), list, show, disable, add and remove keys', async () => {
    const created = await as('createServiceAccount', 'POST', '/service-accounts', { body: { name: 'exporter', scope: 'cmdb.read', generate_key: 'EdDSA' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.service_account.client_id;
    assert.equal(created.body.private_key.kty, 'OKP');
    const shown = await as('getServiceAccount', 'GET', `/service-accounts/${id}`);
    assert.equal(JSON.stringify(shown.body).includes(created.body.private_key.d), false);
    assert.ok((await as('listServiceAccounts', 'GET', '/service-accounts')).body.items.some((a: { client_id: string }) => a.client_id === id));
    const key = await otherKey();
    const added = await as('addServiceAccountKeys', 'POST', `/service-accounts/${id}/keys`, { body: { jwks: { keys: [key] } } });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(added.body.added, [key.kid]);
    const withPrivate = await call('POST', `/service-accounts/${id}/keys`, { token: adminToken, body: { jwks: { keys: [{ ...key, kid: 'p', d: 'AAAA' }] } } });
    assert.equal(withPrivate.status, 400);
    assert.equal((await as('removeServiceAccountKey', 'DELETE', `/service-accounts/${id}/keys/${key.kid}`)).status, 204);
    const partner = await call('POST', '/service-accounts', {
      token: adminToken,
      body: { name: 'partner', scope: 'cmdb.read', import_shared_secret: 'a-partner-secret-of-their-own-0123456789', client_id: 'partner-42' },
    });
    assert.equal(partner.status, 201, JSON.stringify(partner.body));
    assert.equal(partner.body.service_account.client_id, 'partner-42');
    assert.equal(partner.body.service_account.credential, 'shared_secret');
    assert.equal(JSON.stringify(partner.body).includes('a-partner-secret'), false, 'an imported secret is never echoed');
    assert.equal(JSON.stringify(await server.runtime.audit.list({ limit: 1000 })).includes('a-partner-secret'), false);

    // The built-in clients' ids (and their prefix, in any case) cannot be taken: a row under
    // latchkey-api-keys would sign tokens that read as a person's API-key tokens.
    for (const taken of ['latchkey-api-keys', 'latchkey-account', 'LATCHKEY-Account', 'latchkey-next']) {
      for (const credential of [{ import_shared_secret: 'a-partner-secret-of-their-own-0123456789' }, { generate_key: 'ES256' }]) {
        const refused = await call('POST', '/service-accounts', {
          token: adminToken,
          body: { name: 'impostor', scope: 'cmdb.read', client_id: taken, ...credential },
        });
        assert.equal(refused.status, 400, `${taken}: ${JSON.stringify(refused.body)}`);
        assert.deepEqual(
          refused.body.errors.map((e: { pointer: string }) => e.pointer),
          ['#/client_id'],
          taken,
        );
        assert.match(refused.body.errors[0].detail, /reserved/);
      }
      await assert.rejects(
        server.runtime.admin.serviceAccounts.create(
          { kind: 'cli', osUser: 'test' },
          { name: 'impostor', scope: 'cmdb.read', clientId: taken, generateKey: 'ES256' },
        ),
        /reserved/,
        'the service refuses it too (the CLI)',
      );
    }
    assert.equal(await server.runtime.db.client.count({ where: { name: 'impostor' } }), 0);

    const issued = await as('createApiKey', 'POST', '/api-keys', { body: { owner_id: id, name: 'exporter key', scope: 'cmdb.read', expires: '30d' } });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    assert.deepEqual(issued.body.api_key.owner, { kind: 'service_account', id });
    const keyId = issued.body.api_key.id;
    const listedKeys = await as('listApiKeys', 'GET', `/api-keys?owner_id=${id}`);
    assert.deepEqual(
      listedKeys.body.items.map((k: { id: string }) => k.id),
      [keyId],
    );
    assert.equal(JSON.stringify(listedKeys.body).includes(issued.body.key), false, 'the key itself only in the creating response');
    assert.equal((await as('getApiKey', 'GET', `/api-keys/${keyId}`)).body.active, true);
    const revoked = await as('revokeApiKey', 'DELETE', `/api-keys/${keyId}`);
    assert.equal(revoked.body.active, false);
    const keyEvents = (await call('GET', `/audit-events?client_id=${id}&type=api_key_revoked`, { token: adminToken })).body.items;
    assert.equal(keyEvents[0].actor, `service_account:${admin.clientId}`);
    assert.equal((await call('GET', '/api-keys/key_nope', { token: adminToken })).status, 404);

    const etag = (await call('GET', `/service-accounts/${id}`, { token: adminToken })).headers.get('etag')!;
    const disabled = await as('updateServiceAccount', 'PATCH', `/service-accounts/${id}`, { body: { disabled: true }, headers: { 'if-match': etag } });
    assert.equal(disabled.body.disabled, true);
  });

  it('resources, signing keys and the audit trail', async () => {
    const identifier = 'https://hr.example.test/api';
    const created = await as('createResource', 'POST', '/resources', {
      body: { identifier, scope: 'hr.read', format: 'opaque', ttl: 600, claims: ['email', 'roles'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.claims, ['email', 'roles']);
    assert.equal((await call('POST', '/resources', { token: adminToken, body: { identifier, scope: 'hr.read' } })).status, 409);
    assert.ok((await as('listResources', 'GET', '/resources')).body.items.some((r: { identifier: string }) => r.identifier === identifier));
    assert.equal((await as('getResource', 'GET', `/resources/${encodeURIComponent(identifier)}`)).body.format, 'opaque');
    assert.deepEqual([created.body.scope_roles, created.body.machines_only], [{}, false]);

    // Who may hold its scopes: roles per scope, machines only; changed with If-Match.
    const path = `/resources/${encodeURIComponent(identifier)}`;
    const noTag = await call('PATCH', path, { token: adminToken, body: { scope: 'hr.read hr.write', scope_roles: { 'hr.write': ['hr'] } } });
    assert.equal(noTag.status, 428);
    const tag = (await call('GET', path, { token: adminToken })).headers.get('etag')!;
    const updated = await as('updateResource', 'PATCH', path, {
      body: { scope: 'hr.read hr.write', scope_roles: { 'hr.write': ['hr', 'admin'] } },
      headers: { 'if-match': tag },
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(updated.body.scope_roles, { 'hr.write': ['hr', 'admin'] });
    assert.equal(updated.body.scope, 'hr.read hr.write');
    assert.equal((await call('PATCH', path, { token: adminToken, body: { machines_only: true }, headers: { 'if-match': tag } })).status, 412, 'a stale ETag');
    const bad = await call('PATCH', path, {
      token: adminToken,
      body: { scope_roles: { 'hr.delete': ['hr'], 'hr.read': ['not a role'] } },
      headers: { 'if-match': updated.headers.get('etag')! },
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /scope_roles/);
    const undefinedScope = await call('PATCH', path, {
      token: adminToken,
      body: { scope_roles: { 'hr.delete': ['hr'] } },
      headers: { 'if-match': updated.headers.get('etag')! },
    });
    assert.equal(undefinedScope.status, 400);
    assert.match(undefinedScope.body.detail, /hr\.delete.*does not define/);
    const lifted = await call('PATCH', path, {
      token: adminToken,
      body: { scope_roles: { 'hr.write': [] }, machines_only: true },
      headers: { 'if-match': updated.headers.get('etag')! },
    });
    assert.deepEqual([lifted.status, lifted.body.scope_roles, lifted.body.machines_only], [200, {}, true]);
    // The admin API's own resource stays for machines only.
    const adminPath = `/resources/${encodeURIComponent(adminApiResource(server.issuer))}`;
    const adminResource = await call('GET', adminPath, { token: adminToken });
    assert.equal(adminResource.body.machines_only, true);
    const opened = await call('PATCH', adminPath, {
      token: adminToken,
      body: { machines_only: false },
      headers: { 'if-match': adminResource.headers.get('etag')! },
    });
    assert.equal(opened.status, 400);
    assert.match(opened.body.detail, /always for machines only/);
    const withRoles = await call('POST', '/resources', {
      token: adminToken,
      body: { identifier: 'https://roles.example.test', scope: 'r.read r.write', scope_roles: { 'r.write': ['admin'] }, machines_only: false },
    });
    assert.equal(withRoles.status, 201, JSON.stringify(withRoles.body));
    assert.deepEqual(withRoles.body.scope_roles, { 'r.write': ['admin'] });

    assert.equal((await as('deleteResource', 'DELETE', `/resources/${encodeURIComponent(identifier)}`)).status, 204);
    assert.equal((await call('GET', `/resources/${encodeURIComponent(identifier)}`, { token: adminToken })).status, 404);

    const before = (await as('listSigningKeys', 'GET', '/signing-keys')).body.items;
    assert.ok(before.some((k: { state: string; alg: string }) => k.state === 'active' && k.alg === 'RS256'));
    assert.equal(JSON.stringify(before).includes('"d"'), false);
    const rotated = await as('rotateSigningKey', 'POST', '/signing-keys/rotate', { body: { alg: 'ES256' } });
    assert.equal(rotated.status, 201);
    assert.equal(rotated.body.state, 'next');

    const events = await as('listAuditEvents', 'GET', `/audit-events?type=resource.&client_id=&limit=10`);
    assert.equal(events.status, 400, 'an empty client_id is a bad field, not "everything"');
    const resourceEvents = (await call('GET', '/audit-events?type=resource.', { token: adminToken })).body.items;
    assert.deepEqual(
      resourceEvents
        .filter((e: { target: string }) => e.target === `resource:${identifier}`)
        .map((e: { type: string; actor: string }) => `${e.type} ${e.actor}`),
      [
        `resource.deleted service_account:${admin.clientId}`,
        `resource.updated service_account:${admin.clientId}`,
        `resource.updated service_account:${admin.clientId}`,
        `resource.created service_account:${admin.clientId}`,
      ],
    );
    const change = resourceEvents.find((e: { type: string; target: string }) => e.type === 'resource.updated' && e.target === `resource:${identifier}`);
    assert.deepEqual(change.detail, { scope_roles: { from: { 'hr.write': ['hr', 'admin'] }, to: {} }, machines_only: { from: false, to: true } });
    const keyEvents = (await call('GET', `/audit-events?type=signing_key.rotated&since=${new Date(Date.now() - 60_000).toISOString()}`, { token: adminToken }))
      .body.items;
    assert.equal(keyEvents[0].target, `signing_key:${rotated.body.kid}`);
  });

  it('imports, partner secret rotation and the configuration file answer an admin token (their own tests go further)', async () => {
    const ndjson = { 'content-type': 'application/x-ndjson' };
    for (const [id, path] of [
      ['importUsers', '/users/import'],
      ['importClients', '/clients/import'],
      ['importApiKeys', '/api-keys/import'],
    ] as const) {
      const r = await as(id, 'POST', `${path}?dry_run=true`, { body: '{"bogus": 1}', headers: ndjson });
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
      assert.deepEqual([r.body.dry_run, r.body.failed, r.body.errors[0].line], [true, 1, 1]);
    }
    const partner = await server.runtime.serviceAccounts.create({ name: 'partner', scope: 'cmdb.read', sharedSecret: true });
    const rotated = await as('rotateServiceAccountSecret', 'POST', `/service-accounts/${partner.account.clientId}/rotate-secret`, {
      body: { overlap_seconds: 0 },
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const exported = await as('exportConfig', 'GET', '/config');
    assert.equal(exported.status, 200);
    const applied = await as('applyConfig', 'POST', '/config/apply?dry_run=true', { body: exported.body });
    assert.deepEqual([applied.status, applied.body.plan], [200, []]);
  });

  it('exercised every operation in the document with an admin token', () => {
    const missing = operations.map((o) => o.operationId).filter((id) => !exercised.has(id));
    assert.deepEqual(missing, []);
  });

  it("refuses a disabled admin account's unexpired token at once", async () => {
    const cli = { kind: 'cli' as const, osUser: 'test' };
    const second = await server.runtime.admin.serviceAccounts.create(cli, { name: 'second-admin', scope: 'latchkey:admin', generateKey: 'ES256' });
    const token = await tokenFor(server, { clientId: second.account.clientId, key: second.privateJwk! });
    assert.equal((await call('GET', '/clients', { token })).status, 200);
    await server.runtime.admin.serviceAccounts.setDisabled(cli, second.account.clientId, true);
    const refused = await call('GET', '/clients', { token });
    assert.equal(refused.status, 401);
    assert.match(refused.body.detail, /disabled or deleted/);
  });

  it('a disabled admin is refused at once on another node too (no cache between disabling and refusing)', async () => {
    const other = await startSecondNode(server);
    try {
      const cli = { kind: 'cli' as const, osUser: 'test' };
      const third = await server.runtime.admin.serviceAccounts.create(cli, { name: 'third-admin', scope: 'latchkey:admin', generateKey: 'ES256' });
      const token = await tokenFor(server, { clientId: third.account.clientId, key: third.privateJwk! });
      const onOther = adminClient(other);
      assert.equal((await onOther('GET', '/clients', { token })).status, 200);
      await server.runtime.admin.serviceAccounts.setDisabled(cli, third.account.clientId, true);
      assert.equal((await onOther('GET', '/clients', { token })).status, 401, 'refused by the other node immediately');
    } finally {
      await other.stop();
    }
  });

  it("refuses forged tokens: alg none, HS256 keyed with the server's public key, a foreign key with our kid, a bad signature", async () => {
    const claims = JSON.parse(Buffer.from(adminToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const header = JSON.parse(Buffer.from(adminToken.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };
    const publicJwk = server.live.publicJwks.keys.find((k) => k.kid === header.kid)!;
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify(claims))}.`;
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header.kid })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: header.kid })
      .sign(await importJWK(await otherPrivateKey(), 'ES256'));
    const [h, p, s] = adminToken.split('.');
    const tampered = `${h}.${base64url.encode(
      JSON.stringify({ ...claims, scope: 'latchkey:admin', client_id: 'sa_somebody_else', sub: 'sa_somebody_else' }),
    )}.${s}`;
    for (const forged of [none, hs, foreign, tampered, `${h}.${p}.${s!.slice(0, -4)}AAAA`]) {
      const res = await call('GET', '/clients', { token: forged });
      assert.equal(res.status, 401, forged.slice(0, 40));
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
  });

  it('refuses an app client that was granted the admin scope: only service accounts administer', async () => {
    const cli = { kind: 'cli' as const, osUser: 'test' };
    const { client, clientSecret } = await server.runtime.admin.clients.create(cli, {
      name: 'Mistake',
      redirectUris: [],
      clientCredentials: true,
      apiScope: 'latchkey:admin',
    });
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: adminApiResource(server.issuer), scope: 'latchkey:admin' }),
    });
    const { access_token } = (await res.json()) as { access_token: string };
    assert.ok(access_token, 'the token itself is issued (the operator granted the scope)');
    const refused = await call('GET', '/clients', { token: access_token });
    assert.equal(refused.status, 401);
  });

  it('unknown paths under /admin/api are problem documents, not pages', async () => {
    const res = await call('GET', '/nothing-here', { token: adminToken });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
  });
});

async function otherPrivateKey(): Promise<JWK> {
  const { generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), alg: 'ES256' };
}

async function otherKey(): Promise<JWK> {
  const { d: _d, ...pub } = await otherPrivateKey();
  return { ...pub, kid: `k-${Math.random().toString(36).slice(2, 10)}` };
}
