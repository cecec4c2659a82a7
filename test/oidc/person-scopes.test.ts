// A person holds only the scopes their roles allow, wherever they get them:
// a key of their own (account page, JSON API), the exchange of that key, its
// introspection, and a token through an app. Written as the attacker
// went about it: an ordinary person with no roles asks for `cmdb.write`,
// `admin.users`, a machines-only API's scope and `latchkey:admin`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { signInToAccount } from '../helpers/account.ts';
import { Browser, csrfToken, pageText, type Page } from '../helpers/browser.ts';
import { exchange, introspect, resourceServerClient } from '../helpers/api-keys.ts';
import { bootstrapAdmin } from '../helpers/admin-api.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, signIn, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminApiResource } from '../../src/services/admin/administration.ts';

const CMDB = 'https://cmdb.example.test';
const LEDGER = 'https://ledger.example.test';
const LOOKALIKE = 'https://lookalike.example.test';

describe('a person holds only the scopes their roles allow, wherever they get them', () => {
  let server: TestServer;
  let admin: string;
  let mallory: TestPerson; // no roles: the attacker who just signed up
  let olivia: TestPerson; // role ops
  let cmdbRs: { id: string; secret: string };

  const call = (path: string, token: string, body: unknown) =>
    fetch(`${server.url}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** A person's token for Latchkey's own API, as a first-party app gets it. */
  async function apiKeysToken(person: TestPerson) {
    const app = await registerClient(server, { apiScope: 'api-keys' });
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { resource: `${server.issuer}/api`, scope: 'openid api-keys' });
    return tokens.access_token;
  }

  before(async () => {
    server = await startTestServer();
    admin = adminApiResource(server.issuer);
    await bootstrapAdmin(server); // registers the admin API's resource, as on a real deployment
    await server.runtime.resources.create({
      identifier: CMDB,
      scope: 'cmdb.read cmdb.write admin.users',
      scopeRoles: { 'cmdb.write': ['admin', 'ops'], 'admin.users': ['admin'] },
      claims: 'roles email name',
    });
    await server.runtime.resources.create({ identifier: LEDGER, scope: 'ledger.post', machinesOnly: true });
    mallory = await createUser(server);
    olivia = await createUser(server, undefined, undefined, 'Olivia Ops');
    await server.runtime.users.addRole(olivia.id, 'ops');
    cmdbRs = await resourceServerClient(server, [CMDB]);
  });
  after(() => server.stop());

  it('the JSON API refuses a key with a scope the person may not hold, naming it: role-restricted, machines-only, latchkey:admin', async () => {
    const token = await apiKeysToken(mallory);
    const attempts: [Record<string, string>, RegExp][] = [
      [{ scope: 'cmdb.write latchkey:admin' }, /cmdb\.write.*needs the role admin or ops/],
      [{ scope: 'cmdb.write', resource: CMDB }, /cmdb\.write/],
      [{ scope: 'admin.users' }, /admin\.users.*needs the role admin/],
      [{ scope: 'latchkey:admin' }, /latchkey:admin.*admin API/],
      [{ scope: 'ledger.post' }, /ledger\.post.*machines only/],
      [{ scope: 'cmdb.read', resource: admin }, /admin API/],
    ];
    // All at once, as a script would fire them.
    const answers = await Promise.all(attempts.map(([body]) => call('/me/api-keys', token, { name: 'x', ...body })));
    for (const [i, res] of answers.entries()) {
      const problem = (await res.json()) as { detail: string };
      assert.equal(res.status, 400, `${JSON.stringify(attempts[i]![0])}: ${JSON.stringify(problem)}`);
      assert.match(res.headers.get('content-type')!, /problem\+json/);
      assert.match(problem.detail, attempts[i]![1]);
    }
    assert.equal((await server.runtime.apiKeys.list({ owner: { userId: mallory.id } })).length, 0, 'no key was made');
    // What any person may hold is still theirs.
    assert.equal((await call('/me/api-keys', token, { name: 'reader', scope: 'cmdb.read' })).status, 201);
  });

  it('the account page refuses it with a page naming the scope and keeps the form', async () => {
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, mallory.email, mallory.password);
    const page = (await browser.navigate(`${server.url}/account/api-keys/new`)) as Page;
    // The form offers only what the person may hold.
    assert.match(page.html, /value="https:\/\/cmdb\.example\.test cmdb\.read"/);
    assert.doesNotMatch(page.html, /cmdb\.write/);
    const refused = (await browser.navigate(`${server.url}/account/api-keys`, {
      form: { csrf: csrfToken(page.html), name: 'pwn', scope: 'cmdb.read cmdb.write', password: mallory.password },
    })) as Page;
    assert.equal(refused.status, 400);
    assert.match(pageText(refused.html), /The key was not created: you may not hold the scope cmdb\.write/);
    assert.match(refused.html, /value="pwn"/, 'what was typed is kept');
    // A checkbox the form never offered, forged into the post, is refused the same way.
    const forged = (await browser.navigate(`${server.url}/account/api-keys`, {
      form: { csrf: csrfToken(page.html), name: 'forged', scopes: `${CMDB} cmdb.write`, password: mallory.password },
    })) as Page;
    assert.equal(forged.status, 400);
    assert.match(pageText(forged.html), /you may not hold the scope cmdb\.write/);
    assert.ok(!(await server.runtime.apiKeys.list({ owner: { userId: mallory.id } })).some((k) => k.scopes.includes('cmdb.write')));
  });

  it('with the role the key is made; the roles each scope needs are met one by one', async () => {
    const { record } = await server.runtime.apiKeys.create({ owner: { userId: olivia.id }, name: 'ops', scope: 'cmdb.read cmdb.write' });
    assert.deepEqual(record.scopes, ['cmdb.read', 'cmdb.write']);
    await assert.rejects(
      server.runtime.apiKeys.create({ owner: { userId: olivia.id }, name: 'x', scope: 'admin.users' }),
      /admin\.users of https:\/\/cmdb\.example\.test needs the role admin, which user .* does not have/,
    );
    assert.deepEqual(await server.runtime.apiKeys.holdableScopes(olivia.id), [{ resource: CMDB, scopes: ['cmdb.read', 'cmdb.write'] }]);
    assert.deepEqual(await server.runtime.apiKeys.holdableScopes(mallory.id), [{ resource: CMDB, scopes: ['cmdb.read'] }]);
  });

  it("introspection narrows a person's key to what they hold now, with the resource's claims; a role taken away takes the scope at once", async () => {
    const person = await createUser(server, undefined, undefined, 'Rosa Roles');
    await server.runtime.users.addRole(person.id, 'ops');
    const both = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'cmdb.read cmdb.write' });
    const writeOnly = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'w', scope: 'cmdb.write', resource: CMDB });
    const first = (await introspect(server, cmdbRs, { token: both.key })).body;
    assert.equal(first.active, true);
    assert.equal(first.scope, 'cmdb.read cmdb.write');

    await server.runtime.users.removeRole(person.id, 'ops');
    // No wait: the next introspection reads the roles with the key.
    const after = (await introspect(server, cmdbRs, { token: both.key })).body;
    assert.equal(after.active, true);
    assert.equal(after.scope, 'cmdb.read');
    assert.deepEqual((await introspect(server, cmdbRs, { token: writeOnly.key })).body, { active: false }, 'nothing left it may carry');
    assert.deepEqual(after.roles, []);

    // Role-gated APIs see the roles (and the claims they asked for), as in the person's tokens.
    await server.runtime.users.addRole(person.id, 'ops');
    const claims = (await introspect(server, cmdbRs, { token: both.key })).body;
    assert.equal(claims.scope, 'cmdb.read cmdb.write');
    assert.equal(claims.aud, CMDB);
    assert.deepEqual(claims.roles, ['ops']);
    assert.equal(claims.email, person.email);
    assert.equal(claims.name, 'Rosa Roles');
  });

  it("the exchange gives a person's key only what the person holds now, and never a token for a machines-only API", async () => {
    const person = await createUser(server);
    await server.runtime.users.addRole(person.id, 'ops');
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'k', scope: 'cmdb.read cmdb.write' });
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const granted = await exchange(server, { subject_token: key, resource: CMDB });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.equal((await jwtVerify(granted.body.access_token!, jwks, { audience: CMDB })).payload.scope, 'cmdb.read cmdb.write');

    await server.runtime.users.removeRole(person.id, 'ops');
    const narrowed = await exchange(server, { subject_token: key, resource: CMDB });
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
    assert.equal(narrowed.body.scope, 'cmdb.read');
    assert.equal((await jwtVerify(narrowed.body.access_token!, jwks, { audience: CMDB })).payload.scope, 'cmdb.read');
    const asked = await exchange(server, { subject_token: key, resource: CMDB, scope: 'cmdb.write' });
    assert.equal(asked.body.error, 'invalid_scope', JSON.stringify(asked.body));
    assert.match(asked.body.error_description!, /does not hold cmdb\.write/);

    // A scope name that some other API defines openly does not open the machines-only API.
    await server.runtime.resources.create({ identifier: `${LOOKALIKE}/ledger`, scope: 'ledger.post' });
    const posting = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'p', scope: 'ledger.post' });
    const ledger = await exchange(server, { subject_token: posting.key, resource: LEDGER });
    assert.equal(ledger.body.error, 'invalid_target', JSON.stringify(ledger.body));
    assert.match(ledger.body.error_description!, /machines only/);
  });

  it("a key never mints keys nor administers: the exchange refuses Latchkey's own API and the admin API whatever scope names the key carries", async () => {
    // Another API that happens to define scopes named like Latchkey's own.
    await server.runtime.resources.create({ identifier: LOOKALIKE, scope: 'api-keys latchkey:admin' });
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: mallory.id }, name: 'k', scope: 'api-keys latchkey:admin' });
    const sa = (await server.runtime.serviceAccounts.create({ name: 'root-ish', scope: 'latchkey:admin api-keys', generateKey: 'ES256' })).account.clientId;
    const saKey = (await server.runtime.apiKeys.create({ owner: { clientId: sa }, name: 'k', scope: 'latchkey:admin api-keys' })).key;
    for (const [subject, resource] of [
      [key, `${server.issuer}/api`],
      [key, admin],
      [saKey, admin],
      [saKey, `${server.issuer}/api`],
    ] as const) {
      const r = await exchange(server, { subject_token: subject, resource });
      assert.equal(r.status, 400, `${resource}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'invalid_target');
      assert.match(r.body.error_description!, /never exchanged for a token for/);
    }
    // The key is good where it belongs.
    assert.equal((await exchange(server, { subject_token: key, resource: LOOKALIKE })).status, 200);
  });

  describe('the code flow', () => {
    let app: Awaited<ReturnType<typeof registerClient>>;
    before(async () => {
      app = await registerClient(server, { apiScope: 'cmdb.read cmdb.write admin.users ledger.post latchkey:admin' });
    });

    const grantOf = async (personId: string, clientId: string) => {
      const rows = await server.runtime.db.oidcPayload.findMany({ where: { type: 'Grant', accountId: personId } });
      const grants = rows.map((r) => JSON.parse(r.payload) as { clientId: string; resources?: Record<string, string> });
      return grants.find((g) => g.clientId === clientId);
    };

    it('a role-restricted scope the person lacks is left out of the consent, the grant and the token; the response says what was granted', async () => {
      const { tokens } = await codeFlow(app, new Browser(server.url), mallory, { resource: CMDB, scope: 'openid cmdb.read cmdb.write admin.users' });
      assert.equal(tokens.scope, 'cmdb.read', 'RFC 6749 §3.3: the scope granted');
      assert.equal(decodeJwt(tokens.access_token).scope, 'cmdb.read');
      assert.equal((await grantOf(mallory.id, app.clientId))?.resources?.[CMDB], 'cmdb.read');

      const { tokens: ops } = await codeFlow(app, new Browser(server.url), olivia, { resource: CMDB, scope: 'openid cmdb.read cmdb.write admin.users' });
      assert.equal(decodeJwt(ops.access_token).scope, 'cmdb.read cmdb.write');
    });

    it('a request asking only for scopes the person lacks is refused with invalid_scope after sign-in', async () => {
      const req = await authRequest(app, { resource: CMDB, scope: 'openid cmdb.write admin.users' });
      const back = await signIn(new Browser(server.url), req, mallory);
      assert.equal(back.searchParams.get('error'), 'invalid_scope', back.href);
      assert.match(back.searchParams.get('error_description')!, /holds none of the requested scopes of https:\/\/cmdb\.example\.test/);
    });

    it('a machines-only resource and the admin API are refused to any person, before sign-in', async () => {
      for (const [resource, scope] of [
        [LEDGER, 'ledger.post'],
        [admin, 'latchkey:admin'],
      ] as const) {
        const req = await authRequest(app, { resource, scope: `openid ${scope}` });
        const back = await new Browser(server.url).redirect(req.url.href);
        assert.equal(back.searchParams.get('error'), 'invalid_target', back.href);
        assert.match(back.searchParams.get('error_description')!, /machines only/);
      }
    });

    it('a role taken away is gone from the next refreshed token', async () => {
      const person = await createUser(server);
      await server.runtime.users.addRole(person.id, 'admin');
      const { tokens } = await codeFlow(app, new Browser(server.url), person, {
        resource: CMDB,
        scope: 'openid offline_access cmdb.read cmdb.write',
        prompt: 'consent',
      });
      assert.equal(decodeJwt(tokens.access_token).scope, 'cmdb.read cmdb.write');
      await server.runtime.users.removeRole(person.id, 'admin');
      const refreshed = await oidc.refreshTokenGrant(app.config, tokens.refresh_token!);
      assert.equal(decodeJwt(refreshed.access_token).scope, 'cmdb.read');
      assert.equal(refreshed.scope, 'cmdb.read');
    });

    it('a scope the app was not granted is still refused, role or not', async () => {
      const narrow = await registerClient(server, { apiScope: 'cmdb.read' });
      const req = await authRequest(narrow, { resource: CMDB, scope: 'openid cmdb.read cmdb.write' });
      const back = await new Browser(server.url).redirect(req.url.href);
      assert.equal(back.searchParams.get('error'), 'invalid_scope');
      assert.match(back.searchParams.get('error_description')!, /cmdb\.write/);
    });
  });
});
