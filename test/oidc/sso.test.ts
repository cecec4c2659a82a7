import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, pageText, type Page } from '../helpers/browser.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, signIn, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('single sign-on, prompt, max_age and logout', () => {
  let server: TestServer;
  let appA: TestClient;
  let appB: TestClient;
  let person: Awaited<ReturnType<typeof createUser>>;

  before(async () => {
    server = await startTestServer();
    appA = await registerClient(server, { name: 'App A', redirectUri: 'https://a.example.test/cb', postLogout: 'https://a.example.test/bye' });
    appB = await registerClient(server, { name: 'App B', redirectUri: 'https://b.example.test/cb' });
    person = await createUser(server);
  });
  after(() => server.stop());

  it('a second client gets a code without a second login, for the same person and session', async () => {
    const browser = new Browser(server.url);
    const a = await codeFlow(appA, browser, person);
    // No credentials given: signIn fails if a login page appears.
    const b = await codeFlow(appB, browser);
    assert.equal(b.tokens.claims()!.sub, person.id);
    assert.equal(b.tokens.claims()!.auth_time, a.tokens.claims()!.auth_time, 'same login event');
    assert.equal(b.tokens.claims()!.sid, a.tokens.claims()!.sid);
  });

  it('consent once given is remembered: the next authorization skips the page', async () => {
    const browser = new Browser(server.url);
    await codeFlow(appA, browser, person);
    const req = await authRequest(appA);
    const out = await browser.navigate(req.url.href);
    assert.ok('redirect' in out, 'went straight back to the app');
    assert.ok(new URL(out.redirect).searchParams.get('code'));
  });

  it('asking for a new scope shows the consent page again', async () => {
    const browser = new Browser(server.url);
    await codeFlow(appA, browser, person, { scope: 'openid' });
    const req = await authRequest(appA, { scope: 'openid email' });
    const page = (await browser.navigate(req.url.href)) as Page;
    assert.equal(page.status, 200);
    assert.match(pageText(page.html), /See your email address/);
    assert.match(pageText(page.html), /App A/);
  });

  it('prompt=login forces the login page despite a session', async () => {
    const browser = new Browser(server.url);
    await codeFlow(appA, browser, person);
    const req = await authRequest(appA, { prompt: 'login' });
    const page = (await browser.navigate(req.url.href)) as Page;
    assert.equal(page.status, 200);
    assert.match(page.html, /name="password"/);
    const callback = await signIn(browser, req, person);
    assert.ok(callback.searchParams.get('code'));
  });

  it('prompt=none without a session answers login_required to the app', async () => {
    const req = await authRequest(appA, { prompt: 'none' });
    const callback = await new Browser(server.url).redirect(req.url.href);
    assert.equal(callback.origin + callback.pathname, appA.redirectUri);
    assert.equal(callback.searchParams.get('error'), 'login_required');
    assert.equal(callback.searchParams.get('state'), req.state);
  });

  it('prompt=none with a session and consent returns a code', async () => {
    const browser = new Browser(server.url);
    await codeFlow(appA, browser, person);
    const req = await authRequest(appA, { prompt: 'none' });
    const callback = await browser.redirect(req.url.href);
    assert.ok(callback.searchParams.get('code'));
  });

  it('max_age shorter than the session age forces a new login', async () => {
    const browser = new Browser(server.url);
    await codeFlow(appA, browser, person);
    await new Promise((r) => setTimeout(r, 1100));
    const req = await authRequest(appA, { max_age: '0' });
    const page = (await browser.navigate(req.url.href)) as Page;
    assert.match(page.html, /name="password"/);
    const noneReq = await authRequest(appA, { max_age: '0', prompt: 'none' });
    const callback = await browser.redirect(noneReq.url.href);
    assert.equal(callback.searchParams.get('error'), 'login_required');
  });

  it('RP-initiated logout asks for confirmation, ends the session and returns to the registered URI', async () => {
    const browser = new Browser(server.url);
    const { tokens } = await codeFlow(appA, browser, person);
    const endSession = oidc.buildEndSessionUrl(appA.config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://a.example.test/bye',
      state: 'bye-state',
    });
    const confirm = (await browser.navigate(endSession.href)) as Page;
    assert.equal(confirm.status, 200);
    assert.match(pageText(confirm.html), /Sign out of Latchkey\?/);
    const xsrf = confirm.html.match(/name="xsrf" value="([^"]+)"/)![1]!;
    const action = confirm.html.match(/id="op.logoutForm"[^>]*action="([^"]+)"|action="([^"]+)"[^>]*id="op.logoutForm"/)!;
    const back = await browser.redirect(new URL(action[1] ?? action[2]!, server.url).href, { form: { xsrf, logout: 'yes' } });
    assert.equal(back.origin + back.pathname, 'https://a.example.test/bye');
    assert.equal(back.searchParams.get('state'), 'bye-state');

    // The session is gone: the next authorization asks for a login.
    const req = await authRequest(appB);
    const page = (await browser.navigate(req.url.href)) as Page;
    assert.match(page.html, /name="password"/);
  });

  it('logout to an unregistered post_logout_redirect_uri is refused on an error page', async () => {
    const browser = new Browser(server.url);
    const { tokens } = await codeFlow(appA, browser, person);
    const url = oidc.buildEndSessionUrl(appA.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example.test/' });
    const page = (await browser.navigate(url.href)) as Page;
    assert.equal(page.status, 400);
    assert.ok(!('redirect' in page));
    assert.match(page.html, /post_logout_redirect_uri/);
  });
});
