// The admin console on a listener of its own (ADMIN_CONSOLE_PORT), over HTTP:
// the main listener answers 404 under /admin (the admin API stays there);
// the console's listener sends a browser to sign in on the issuer's pages and
// takes it back at /admin/callback, then keeps its own cookie naming that
// sign-in's session; a callback that is not this browser's own sign-in signs
// nobody in; ending the person's sessions ends the console's sign-in too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONSOLE_ROUTES } from '../../src/console/routes.ts';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { createUser, submitLogin } from '../helpers/relying-party.ts';
import { advanceClock, freePort, startTestServer, type TestServer } from '../helpers/server.ts';
import { totp } from '../helpers/totp.ts';
import { personWithFactor, signInToConsole, type Admin } from './console-helpers.ts';

describe('the admin console on its own listener', () => {
  let server: TestServer;
  let consoleUrl: string;
  let admin: Admin;

  before(async () => {
    server = await startTestServer({ ADMIN_CONSOLE_PORT: String(await freePort()) });
    consoleUrl = server.consoleUrl!;
    admin = await personWithFactor(server, ['latchkey-admin']);
  });
  after(async () => {
    await server?.stop();
  });

  const pathOf = (path: string) => path.replace(/:[a-z]+/g, 'x');

  it('the main listener answers 404 on every console route; the admin API stays there', async () => {
    const browser = new Browser(server.url);
    for (const r of CONSOLE_ROUTES) {
      const res = await browser.request(`${server.url}${pathOf(r.path)}`, r.method === 'post' ? { form: { csrf: 'x' } } : {});
      assert.equal(res.status, 404, `${r.method.toUpperCase()} ${r.path}`);
      await res.arrayBuffer();
    }
    const api = await fetch(`${server.url}/admin/api/v1/users`);
    assert.equal(api.status, 401, 'the admin API answers (and wants a token)');
    assert.equal(consoleUrl, new URL(consoleUrl).origin);
    assert.match(consoleUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'loopback by default');
  });

  it('signs in through the issuer and comes back to the console, which keeps its own cookie; ending the session ends it', async () => {
    const browser = new Browser([server.url, consoleUrl]);
    const start = await browser.request(`${consoleUrl}/admin`);
    assert.equal(start.status, 303);
    const auth = new URL(start.headers.get('location')!);
    assert.equal(auth.origin, new URL(server.issuer).origin, 'sent to the issuer');
    assert.equal(auth.searchParams.get('redirect_uri'), `${consoleUrl}/admin/callback`);
    assert.equal(auth.searchParams.get('acr_values'), 'urn:latchkey:acr:mfa');
    assert.ok(browser.cookie('lk_console_state'), 'this browser holds the state of its sign-in');

    const page = await signInToConsole(browser, server, admin, 0, `${consoleUrl}/admin`);
    assert.equal(page.status, 200, page.html.slice(0, 300));
    assert.equal(page.url, `${consoleUrl}/admin`);
    assert.match(pageText(page.html), /Signed in as .* administrator/);
    assert.ok(browser.cookie('lk_console'), "the console's own cookie");
    assert.match(page.html, new RegExp(`href="${server.issuer}/account"`), 'the account page is on the issuer');

    // A change works from the console's origin, audited with the person.
    const ada = await createUser(server);
    const person = await browser.page(`${consoleUrl}/admin/people/${ada.id}`);
    const added = await browser.request(`${consoleUrl}/admin/people/${ada.id}/roles`, { form: { csrf: csrfToken(person.html), role: 'billing-admin' } });
    assert.equal(added.status, 303);
    assert.equal(added.headers.get('location'), `/admin/people/${ada.id}?notice=role-added`);
    const [row] = await server.runtime.audit.list({ userId: ada.id, type: 'role_added' });
    assert.equal(row?.actor, `person:${admin.id}`);

    // A second factor older than ADMIN_REAUTH changes nothing here either; the way back in signs in on the issuer again.
    advanceClock(server, 16 * 60_000);
    try {
      const stale = await browser.request(`${consoleUrl}/admin/people/${ada.id}/roles`, { form: { csrf: csrfToken(person.html), role: 'stale-role' } });
      assert.equal(stale.headers.get('location'), '/admin/reauthenticate?why=old');
      const reauth = await browser.page(`${consoleUrl}/admin/reauthenticate?why=old`);
      const link = new URL(reauth.html.match(/class="button" href="([^"]+)"/)![1]!.replace(/&amp;/g, '&'));
      assert.equal(link.origin, new URL(server.issuer).origin);
      assert.equal(link.searchParams.get('prompt'), 'login');
      assert.equal(link.searchParams.get('redirect_uri'), `${consoleUrl}/admin/callback`);
      assert.deepEqual(await server.runtime.users.roles(ada.id), ['billing-admin']);
    } finally {
      advanceClock(server, -16 * 60_000);
    }

    // Only the console's cookie: the issuer's cookies alone do not open it, and it alone does.
    const onlyConsole = new Browser(consoleUrl);
    onlyConsole.setCookie('lk_console', browser.cookie('lk_console')!);
    onlyConsole.setCookie('lk_console.sig', browser.cookie('lk_console.sig')!);
    assert.equal((await onlyConsole.request(`${consoleUrl}/admin`)).status, 200);
    const issuerOnly = new Browser(consoleUrl);
    for (const name of browser.cookieNames().filter((n) => !n.startsWith('lk_console'))) issuerOnly.setCookie(name, browser.cookie(name)!);
    assert.equal((await issuerOnly.request(`${consoleUrl}/admin`)).status, 303, "the issuer's session cookie does not open the console's listener");
    const forged = new Browser(consoleUrl);
    forged.setCookie('lk_console', 'some-other-session-uid');
    forged.setCookie('lk_console.sig', browser.cookie('lk_console.sig')!);
    assert.equal((await forged.request(`${consoleUrl}/admin`)).status, 303, 'a cookie whose signature does not match opens nothing');

    await server.runtime.admin.users.endAllSessions({ kind: 'cli', osUser: 'test' }, admin.id);
    const ended = await onlyConsole.request(`${consoleUrl}/admin`);
    assert.equal(ended.status, 303, 'ending their sessions ends the console sign-in');
    await ended.arrayBuffer();
  });

  it("a callback that is not this browser's own sign-in signs nobody in: a real code from someone else's sign-in, a made-up one", async () => {
    // The attacker signs in (as themself) and stops before the callback: a valid code and state of their own.
    const attacker = new Browser(server.url);
    const start = await attacker.request(`${consoleUrl}/admin`);
    const auth = new URL(start.headers.get('location')!);
    await start.arrayBuffer();
    const login = await attacker.page(auth.href);
    const codePage = (await submitLogin(attacker, login, admin.email, admin.password)) as Page;
    const back = await attacker.navigate(new URL(formAction(codePage.html, '/code'), codePage.url).href, {
      form: { csrf: csrfToken(codePage.html), code: totp(admin.secret, 1, server.runtime.clock.now()) },
    });
    assert.ok('redirect' in back, 'the issuer sends the browser back to the console');
    const callback = new URL(back.redirect);
    assert.equal(`${callback.origin}${callback.pathname}`, `${consoleUrl}/admin/callback`);
    // …and gets a victim's browser to open it (a link, an image): the victim is not signed in as the attacker.
    const victim = new Browser(consoleUrl);
    await (await victim.request(`${consoleUrl}/admin`)).arrayBuffer();
    for (const query of [callback.search.slice(1), `code=made-up&state=${callback.searchParams.get('state')}`, 'code=x&state=y', '']) {
      const res = await victim.request(`${consoleUrl}/admin/callback?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(pageText(await res.text()), /could not be completed here/);
      assert.equal(victim.cookie('lk_console'), undefined);
    }
    // Addressed by another name (DNS rebinding): refused.
    const rebound = await fetch(`${consoleUrl}/admin`, { headers: { host: 'evil.example.test' } });
    assert.equal(rebound.status, 400);
  });
});
