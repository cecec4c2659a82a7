// The sign-in pages in a real browser: Chromium fills the forms, follows the
// redirects and lands on the app, which then redeems the code.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { authRequest, createUser, oidc, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server.ts';

describe('sign-in pages in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let app: Server;
  let client: TestClient;
  let person: Awaited<ReturnType<typeof createUser>>;

  before(async () => {
    server = await startTestServer();
    const appPort = await freePort();
    // The relying party's callback: a page that just says it got the answer.
    app = createServer((_req, res) => res.end('<!doctype html><title>App</title><p>back at the app</p>')).listen(appPort, '127.0.0.1');
    client = await registerClient(server, {
      name: 'Browser App',
      redirectUri: `http://127.0.0.1:${appPort}/callback`,
      postLogout: `http://127.0.0.1:${appPort}/signed-out`,
    });
    person = await createUser(server, 'katherine@example.test', 'orbital mechanics 1962', 'Katherine Johnson');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    app?.close();
    await server?.stop();
  });

  it('login (with a wrong password first), consent, and back to the app with a code that redeems', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 780 } });
    const req = await authRequest(client, { scope: 'openid email profile' });
    await page.goto(req.url.href);

    assert.equal(await page.title(), 'Sign in · Latchkey');
    assert.ok(await page.getByLabel('Email').isVisible());
    assert.ok(await page.getByLabel('Password').isVisible());
    assert.equal(await page.getByLabel('Email').getAttribute('autocomplete'), 'username');
    await page.screenshot({ path: join(ARTIFACTS, 'login.png'), fullPage: true });

    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    assert.match(await page.getByRole('alert').innerText(), /^There is a problem\s+The email address or password is not correct\.$/);
    assert.equal(await page.getByLabel('Email').inputValue(), person.email, 'email kept');
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'password not echoed');
    await page.screenshot({ path: join(ARTIFACTS, 'login-failed.png'), fullPage: true });

    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/interaction\//);
    await page.getByRole('heading', { name: /Allow Browser App access\?/ }).waitFor();
    assert.match(await page.locator('ul.scopes').innerText(), /See your email address/);
    await page.screenshot({ path: join(ARTIFACTS, 'consent.png'), fullPage: true });

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/\/callback\?/);
    const callback = new URL(page.url());
    assert.equal(callback.searchParams.get('state'), req.state);
    const tokens = await oidc.authorizationCodeGrant(client.config, callback, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    assert.equal(tokens.claims()!.email, person.email);

    // SSO: a new authorization in the same browser goes straight back to the app.
    const again = await authRequest(client, { scope: 'openid email profile' });
    await page.goto(again.url.href);
    await page.waitForURL(/\/callback\?/);
    assert.ok(new URL(page.url()).searchParams.get('code'));

    // Logout confirmation page.
    const end = oidc.buildEndSessionUrl(client.config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: client.redirectUri.replace('callback', 'signed-out'),
    });
    await page.goto(end.href);
    await page.getByRole('heading', { name: 'Sign out of Latchkey?' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'logout.png'), fullPage: true });
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(/\/signed-out/);
    await page.close();
  });

  it('an unregistered redirect URI stops on a friendly error page', async () => {
    const page = await browser.newPage();
    const req = await authRequest(client, { redirect_uri: 'https://evil.example.test/steal' });
    const response = await page.goto(req.url.href);
    assert.equal(response?.status(), 400);
    assert.equal(new URL(page.url()).origin, server.issuer);
    await page.getByRole('heading', { name: 'Something went wrong' }).waitFor();
    assert.match(await page.locator('main').innerText(), /not registered/);
    await page.screenshot({ path: join(ARTIFACTS, 'error-redirect-uri.png'), fullPage: true });
    await page.close();
  });
});
