import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import {
  authRequest,
  createUser,
  registerClient,
  serverWithClientAndPerson,
  signIn,
  submitLogin,
  type TestClient,
  type TestPerson,
} from '../helpers/relying-party.ts';
import type { TestServer } from '../helpers/server.ts';

describe('login and consent pages', () => {
  let server: TestServer;
  let client: TestClient;
  let person: TestPerson;
  before(async () => ({ server, client, person } = await serverWithClientAndPerson({ name: 'Photo Printer' })));
  after(() => server.stop());

  async function loginPage(browser = new Browser(server.url)) {
    const req = await authRequest(client);
    const page = (await browser.navigate(req.url.href)) as Page;
    return { browser, page, req };
  }

  it('the login page has labelled email and password fields, CSRF token and safe headers', async () => {
    const { page } = await loginPage();
    assert.equal(page.status, 200);
    assert.match(page.html, /<label for="email">Email address<\/label>/);
    assert.match(page.html, /<input id="email" name="email" type="email" autocomplete="username" inputmode="email"/);
    assert.match(page.html, /<label for="password">Password<\/label>/);
    assert.match(page.html, /name="password" type="password" autocomplete="current-password"/);
    assert.ok(csrfToken(page.html).length >= 43);
    assert.match(pageText(page.html), /Photo Printer/);
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
  });

  it('a wrong password gives one neutral message and keeps the email', async () => {
    const { browser, page } = await loginPage();
    const wrong = (await submitLogin(browser, page, person.email, 'not the password')) as Page;
    assert.equal(wrong.status, 401);
    assert.match(pageText(wrong.html), /The email address or password is not correct\./);
    assert.match(wrong.html, new RegExp(`name="email"[^>]*value="${person.email.replace('.', '\\.')}"`));
    assert.doesNotMatch(wrong.html, /not the password/);

    const unknown = (await submitLogin(browser, wrong, 'nobody@example.test', 'whatever123')) as Page;
    assert.equal(unknown.status, 401);
    assert.equal(pageText(unknown.html).match(/The email address or password is not correct\./)?.length, 1, 'same message for an unknown email');
  });

  it('a disabled person cannot sign in and sees the same neutral message', async () => {
    const someone = await createUser(server);
    await server.runtime.users.setDisabled(someone.id, true);
    const { browser, page } = await loginPage();
    const res = (await submitLogin(browser, page, someone.email, someone.password)) as Page;
    assert.equal(res.status, 401);
    assert.match(pageText(res.html), /The email address or password is not correct\./);
  });

  it('email matching is case-insensitive', async () => {
    const req = await authRequest(client);
    const callback = await signIn(new Browser(server.url), req, { email: person.email.toUpperCase(), password: person.password });
    assert.ok(callback.searchParams.get('code'));
  });

  it('a login form posted without the CSRF token is refused and signs nobody in', async () => {
    const { browser, page } = await loginPage();
    const action = new URL(formAction(page.html, '/login'), page.url).href;
    const res = (await browser.navigate(action, { form: { email: person.email, password: person.password } })) as Page;
    assert.equal(res.status, 403);
    assert.match(pageText(res.html), /This form has expired or was sent from another site/);
    const forged = (await browser.navigate(action, { form: { csrf: 'x'.repeat(43), email: person.email, password: person.password } })) as Page;
    assert.equal(forged.status, 403);
    // As many characters as the token, more bytes: refused, not a 500.
    const multibyte = (await browser.navigate(action, { form: { csrf: 'é'.repeat(43), email: person.email, password: person.password } })) as Page;
    assert.equal(multibyte.status, 403);
  });

  it('the consent page names the app and the scopes in plain words; deny returns access_denied', async () => {
    const browser = new Browser(server.url);
    const req = await authRequest(client, { scope: 'openid email profile offline_access', prompt: 'consent' });
    const login = (await browser.navigate(req.url.href)) as Page;
    const consent = (await submitLogin(browser, login, person.email, person.password)) as Page;
    const text = pageText(consent.html);
    assert.match(text, /Allow Photo Printer access\?/);
    assert.match(text, /See your email address/);
    assert.match(text, /See your name/);
    assert.match(text, /Keep access while you are away/);
    const denied = await browser.redirect(new URL(formAction(consent.html, '/abort'), consent.url).href, { form: { csrf: csrfToken(consent.html) } });
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), req.state);
    assert.equal(denied.searchParams.get('code'), null);
  });

  it("an app's own logo, host and links (client metadata) are shown on its sign-in and consent pages; only https ones are accepted", async () => {
    const branded = await registerClient(server, { name: 'Garden Planner', redirectUri: 'https://garden.example.test/cb' });
    await server.runtime.clients.update(branded.clientId, {
      logoUri: 'https://cdn.garden.example.test/logo.png',
      clientUri: 'https://garden.example.test/',
      policyUri: 'https://garden.example.test/privacy',
      tosUri: 'https://garden.example.test/terms',
    });
    const browser = new Browser(server.url);
    const login = (await browser.navigate((await authRequest(branded, { prompt: 'consent' })).url.href)) as Page;
    assert.match(login.html, /<img class="app-logo" src="https:\/\/cdn\.garden\.example\.test\/logo\.png" alt="Garden Planner logo"/);
    assert.match(pageText(login.html), /Garden Planner · garden\.example\.test/);
    assert.match(login.headers.get('content-security-policy')!, /img-src 'self' data: https:\/\/cdn\.garden\.example\.test/);
    const consent = (await submitLogin(browser, login, person.email, person.password)) as Page;
    assert.match(consent.html, /href="https:\/\/garden\.example\.test\/privacy"[^>]*>Garden Planner(&#39;|')s privacy policy/);
    assert.match(consent.html, /href="https:\/\/garden\.example\.test\/terms"[^>]*>Garden Planner(&#39;|')s terms of service/);
    for (const bad of ['javascript:alert(1)', 'http://garden.example.test/logo.png', 'not a url']) {
      await assert.rejects(server.runtime.clients.update(branded.clientId, { logoUri: bad }), /--logo-uri .* (must be an https|is not an absolute URL)/, bad);
    }
  });

  it('an expired or unknown interaction shows a friendly page, not a stack trace', async () => {
    const res = await fetch(`${server.url}/interaction/does-not-exist`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(pageText(html), /This sign-in request has expired or was already completed/);
    assert.doesNotMatch(html, /at \w+ \(|node_modules|Error:/);
  });

  it('a failure is audited with its reason; the password reaches neither the audit trail nor the logs', async () => {
    const { browser, page } = await loginPage();
    await submitLogin(browser, page, person.email, 'Sup3r-Secret-Typo!');
    const [event] = await server.runtime.audit.list({ userId: person.id, limit: 1 });
    assert.equal(event?.type, 'login_failed');
    assert.deepEqual(event?.detail, { reason: 'bad_password' });
    assert.equal(event?.clientId, client.clientId);
    assert.ok(event?.ip);
    const everything = server.logs.join('\n') + JSON.stringify(await server.runtime.audit.list({ limit: 1000 }));
    assert.ok(!everything.includes('Sup3r-Secret-Typo!'));
    assert.ok(!everything.includes(person.password));
  });
});
