// Who may use the admin console, tried the way an attacker would: every route
// of CONSOLE_ROUTES (the table the router is built from, so a new route is in
// here by itself) refused to a person without a console role; an auditor
// reads and changes nothing; a change needs a second factor used within
// ADMIN_REAUTH (the test moves runtime.clock), so an old or stolen session
// cookie changes nothing; a missing or forged CSRF token changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CONSOLE_ROUTES } from '../../src/console/routes.ts';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { createUser, submitLogin } from '../helpers/relying-party.ts';
import { advanceClock, startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, csrfOf, personWithFactor, signInToConsole, stealCookies, type Admin } from './console-helpers.ts';

const MINUTE = 60_000;
/** What each refused post would have changed, had it been let through: a role, an app's name and redirect, its secret, a new person. */
const ATTACK = {
  role: 'latchkey-admin',
  name: 'Pwned',
  redirect_uris: 'https://evil.example.test/cb',
  overlap: '0',
  // An API's and a service account's: opened to any scope, the app made its introspector, a key of the attacker's.
  scope: 'invoices.read invoices.write',
  client_id: 'console-access-shop',
  credential: 'generate',
  alg: 'ES256',
  when: '0',
  email: 'planted@evil.example.test',
};
/** The API the console's API routes are tried on (its identifier as a path segment). */
const API = 'https://billing.example.test';
const API_ID = encodeURIComponent(API);

describe('who may use the admin console', () => {
  let server: TestServer;
  let admin: Admin;
  let another: Admin;
  let auditor: Admin;
  let stranger: Admin;
  let target: { id: string; email: string };
  let keyId: string;
  let appId: string;
  let accountId: string;
  let kid: string;

  before(async () => {
    server = await startTestServer({ ADMIN_REAUTH: '15' });
    admin = await personWithFactor(server, ['latchkey-admin']);
    another = await personWithFactor(server, ['latchkey-admin']);
    auditor = await personWithFactor(server, ['latchkey-auditor']);
    // Holds other roles, and a role named like the console's in another case.
    stranger = await personWithFactor(server, ['billing-admin', 'Latchkey-Admin']);
    target = await createUser(server);
    await server.runtime.resources.create({ identifier: API, scope: 'invoices.read' });
    appId = (await server.runtime.clients.create({ name: 'Shop', redirectUris: ['https://shop.example.test/cb'] }, { clientId: ATTACK.client_id })).client
      .clientId;
    keyId = (await server.runtime.apiKeys.create({ owner: { userId: target.id }, name: 'ci', scope: 'invoices.read' })).record.id;
    const account = (await server.runtime.serviceAccounts.create({ name: 'sync', scope: 'invoices.read', generateKey: 'ES256' })).account;
    [accountId, kid] = [account.clientId, account.keys[0]!.kid];
  });
  after(async () => {
    await server?.stop();
  });

  /** A console path with its parameters filled in with real objects (the target person, their key). */
  const pathOf = (path: string) =>
    path
      .replace(
        ':id',
        path.startsWith('/admin/api-keys')
          ? keyId
          : path.startsWith('/admin/apps')
            ? appId
            : path.startsWith('/admin/apis')
              ? API_ID
              : path.startsWith('/admin/service-accounts')
                ? accountId
                : target.id,
      )
      .replace(':session', 'no-such-session')
      .replace(':grant', 'no-such-grant')
      .replace(':role', 'latchkey-admin')
      .replace(':client', appId)
      .replace(':kid', encodeURIComponent(kid));

  /** Changes the console made (audited with a person as actor) so far. */
  const consoleChanges = async () =>
    (await server.runtime.audit.list({ limit: 1000 })).filter((e) => e.actor?.startsWith('person:')).map((e) => `${e.type} by ${e.actor}`);

  /** Nothing about the target (or the app) changed, and no change was audited since `baseline`. */
  async function assertUnchanged(what: string, baseline: string[]) {
    const app = await server.runtime.clients.get(appId);
    assert.equal(app.name, 'Shop', `${what}: the app is still there, unchanged`);
    assert.equal(app.secrets.previous, undefined, `${what}: its secret was not replaced`);
    const person = await server.runtime.users.get(target.id);
    assert.equal(person.disabled, false, `${what}: the target is still enabled`);
    assert.deepEqual(await server.runtime.users.roles(target.id), [], `${what}: the target's roles are unchanged`);
    assert.equal((await server.runtime.resources.get(API)).scope, 'invoices.read', `${what}: the API is unchanged`);
    assert.equal((await server.runtime.clients.get(appId)).metadata.resource_servers, undefined, `${what}: the app introspects nothing`);
    const account = await server.runtime.serviceAccounts.get(accountId);
    assert.deepEqual(
      [account.disabled, account.metadata.scope, account.keys.map((k) => [k.kid, k.expiresAt])],
      [false, 'invoices.read', [[kid, null]]],
      `${what}: the service account is unchanged`,
    );
    assert.equal(await server.runtime.users.findByEmail(ATTACK.email), undefined, `${what}: nobody was created`);
    assert.deepEqual(await consoleChanges(), baseline, `${what}: no change by a person in the audit trail`);
  }

  it('a person without a console role gets 403 on every route, with a valid CSRF token and a fresh second factor', async () => {
    const baseline = await consoleChanges();
    const browser = new Browser(server.url);
    const first = await signInToConsole(browser, server, stranger);
    assert.equal(first.status, 403, 'the start page refuses');
    assert.match(pageText(first.html), /may not use the admin console/);
    const csrf = csrfToken((await browser.page(`${server.url}/account/profile`)).html);
    assert.ok(CONSOLE_ROUTES.length >= 10, `the table lists the routes (${CONSOLE_ROUTES.length})`);
    const answers = await Promise.all(
      CONSOLE_ROUTES.map(async (r) => {
        const res = await browser.request(`${server.url}${pathOf(r.path)}`, r.method === 'post' ? { form: { csrf, ...ATTACK } } : {});
        return `${r.method.toUpperCase()} ${r.path} ${res.status}`;
      }),
    );
    assert.deepEqual(
      answers,
      CONSOLE_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path} 403`),
    );
    assert.deepEqual(await server.runtime.users.roles(stranger.id), ['Latchkey-Admin', 'billing-admin'], 'nobody gave themself a role');
    await assertUnchanged('a stranger', baseline);
  });

  it('someone not signed in is sent to sign in with a second factor, and changes nothing', async () => {
    const baseline = await consoleChanges();
    const anonymous = new Browser(server.url);
    for (const r of CONSOLE_ROUTES) {
      const res = await anonymous.request(`${server.url}${pathOf(r.path)}`, r.method === 'post' ? { form: { csrf: 'x', ...ATTACK } } : {});
      assert.equal(res.status, 303, `${r.method} ${r.path}`);
      const to = new URL(res.headers.get('location')!, server.url);
      if (r.method === 'get') {
        assert.equal(to.pathname, '/auth', `${r.path} goes to the authorization endpoint`);
        assert.equal(to.searchParams.get('acr_values'), 'urn:latchkey:acr:mfa');
        assert.equal(to.searchParams.get('redirect_uri'), `${server.issuer}/admin`);
      } else assert.equal(to.pathname, '/admin');
    }
    await assertUnchanged('someone not signed in', baseline);
  });

  it('an auditor reads every page and gets 403 on every change', async () => {
    const baseline = await consoleChanges();
    const { browser, csrf } = await consoleAs(server, auditor);
    for (const r of CONSOLE_ROUTES) {
      const res = await browser.request(`${server.url}${pathOf(r.path)}`, r.method === 'post' ? { form: { csrf, ...ATTACK } } : {});
      const expected = r.access === 'change' ? 403 : 200;
      assert.equal(res.status, expected, `${r.method.toUpperCase()} ${r.path} (${r.access})`);
      if (expected === 403) assert.match(pageText(await res.text()), /Auditors can read the admin console but not change anything/);
      else await res.arrayBuffer();
    }
    const person = await browser.page(`${server.url}/admin/people/${target.id}`);
    assert.match(pageText(person.html), new RegExp(target.email.replace(/[.]/g, '\\.')));
    assert.doesNotMatch(person.html, /method="post"/, 'an auditor is offered no form that changes anything');
    for (const path of [`/admin/apis/${API_ID}`, `/admin/service-accounts/${accountId}`, '/admin/apis', '/admin/service-accounts']) {
      const page = await browser.page(`${server.url}${path}`);
      assert.equal(page.status, 200, path);
      assert.doesNotMatch(page.html, /method="post"|\/(new|disable|expire|remove)"/, `${path}: no form or link to a change for an auditor`);
    }
    await assertUnchanged('an auditor', baseline);
  });

  it('a missing or forged CSRF token changes nothing, even with a fresh second factor', async () => {
    const baseline = await consoleChanges();
    const { browser, csrf } = await consoleAs(server, admin);
    const forged = randomBytes(32).toString('base64url');
    for (const form of [{}, { csrf: '' }, { csrf: forged }, { csrf: `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` }] as Record<string, string>[]) {
      const res = await browser.request(`${server.url}/admin/people/${target.id}/disable`, { form });
      assert.equal(res.status, 403, `csrf ${JSON.stringify(form)}`);
      await res.arrayBuffer();
      const role = await browser.request(`${server.url}/admin/people/${target.id}/roles`, { form: { ...form, role: 'latchkey-admin' } });
      assert.equal(role.status, 403);
      await role.arrayBuffer();
      const created = await browser.request(`${server.url}/admin/people`, { form: { ...form, email: ATTACK.email } });
      assert.equal(created.status, 403, 'nobody is created');
      await created.arrayBuffer();
    }
    await assertUnchanged('forged CSRF tokens', baseline);
  });

  it('a second factor older than ADMIN_REAUTH, or a stolen cookie of its session, reads but changes nothing until signing in again', async () => {
    const baseline = await consoleChanges();
    const owner = new Browser(server.url);
    const start = await signInToConsole(owner, server, another);
    assert.equal(start.status, 200);
    const csrf = await csrfOf(owner, server);
    advanceClock(server, 16 * MINUTE);
    try {
      const thief = stealCookies(server, owner);
      for (const agent of [owner, thief]) {
        const read = await agent.page(`${server.url}/admin/people/${target.id}`);
        assert.equal(read.status, 200, 'reading still works');
        const res = await agent.request(`${server.url}/admin/people/${target.id}/disable`, { form: { csrf } });
        assert.equal(res.status, 303);
        assert.equal(res.headers.get('location'), '/admin/reauthenticate?why=old');
        const confirm = await agent.request(`${server.url}/admin/people/${target.id}/disable`);
        assert.equal(confirm.headers.get('location'), '/admin/reauthenticate?why=old', 'the confirmation page asks first too');
        // The same for an API's and a service account's changes (a key of the thief's, the account disabled, the API opened).
        for (const [path, form] of [
          [`/admin/apis/${API_ID}`, { scope: 'invoices.read invoices.write', format: 'jwt', ttl: '3600' }],
          [`/admin/apis/${API_ID}/introspectors`, { client_id: appId }],
          [`/admin/service-accounts/${accountId}/disable`, {}],
          [`/admin/service-accounts/${accountId}/keys`, { credential: 'generate', alg: 'ES256' }],
          [`/admin/service-accounts/${accountId}/keys/${encodeURIComponent(kid)}/expire`, { when: '0' }],
        ] as const) {
          const change = await agent.request(`${server.url}${path}`, { form: { csrf, ...form } });
          assert.equal(change.headers.get('location'), '/admin/reauthenticate?why=old', path);
        }
      }
      const page = await owner.page(`${server.url}/admin/reauthenticate?why=old`);
      assert.match(pageText(page.html), /used in the last 15 minutes/);
      await assertUnchanged('an old second factor', baseline);
    } finally {
      advanceClock(server, -16 * MINUTE);
    }
    // Signing in again (password and code) through the page's link: the change goes through, audited with the person as actor.
    const reauth = await owner.page(`${server.url}/admin/reauthenticate?why=old`);
    const link = reauth.html.match(/class="button" href="([^"]+)"/)![1]!.replace(/&amp;/g, '&');
    assert.equal(new URL(link).searchParams.get('prompt'), 'login');
    const again = await signInToConsole(owner, server, another, 1, link);
    assert.equal(new URL(again.url).pathname, '/admin', again.html.slice(0, 300));
    const done = await owner.request(`${server.url}/admin/people/${target.id}/disable`, { form: { csrf: await csrfOf(owner, server) } });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), `/admin/people/${target.id}?notice=disabled`);
    assert.equal((await server.runtime.users.get(target.id)).disabled, true);
    const [row] = await server.runtime.audit.list({ userId: target.id, type: 'user.updated' });
    assert.equal(row?.actor, `person:${another.id}`);
    assert.deepEqual(row?.detail, { disabled: { from: false, to: true } });
    await server.runtime.users.update(target.id, { disabled: false });
  });

  it('an administrator without a second factor is sent to sign in with one, and changes nothing meanwhile', async () => {
    const baseline = await consoleChanges();
    const bare = await createUser(server);
    await server.runtime.users.addRole(bare.id, 'latchkey-admin');
    const browser = new Browser(server.url);
    // Signed in to the account page with the password alone.
    const login = await browser.page(`${server.url}/account`);
    const account = (await submitLogin(browser, login, bare.email, bare.password)) as Page;
    assert.equal(new URL(account.url).pathname, '/account');
    const csrf = csrfToken((await browser.page(`${server.url}/account/profile`)).html);
    for (const r of CONSOLE_ROUTES.filter((x) => x.access !== 'role')) {
      const res = await browser.request(`${server.url}${pathOf(r.path)}`, r.method === 'post' ? { form: { csrf, ...ATTACK } } : {});
      assert.equal(res.status, 303, `${r.method} ${r.path}`);
      assert.equal(res.headers.get('location'), '/admin/reauthenticate?why=factor');
    }
    const page = await browser.page(`${server.url}/admin/reauthenticate?why=factor`);
    assert.match(pageText(page.html), /needs a sign-in with a second factor/);
    // The way back in asks for the password and then sets up a second factor.
    const link = page.html.match(/class="button" href="([^"]+)"/)![1]!.replace(/&amp;/g, '&');
    const signIn = await browser.page(link);
    const next = await browser.page(new URL(formAction(signIn.html, '/login'), signIn.url).href, {
      form: { csrf: csrfToken(signIn.html), email: bare.email, password: bare.password },
    });
    assert.match(next.html, /\/enroll"/, 'a second factor is set up on the way');
    await assertUnchanged('an administrator without a second factor', baseline);
  });
});
