// Passkeys as a person meets them, in Chromium with a virtual authenticator
// (the DevTools protocol's WebAuthn domain): added from the account page
// after the password, used instead of the password and as the second step;
// a removed or replayed passkey is refused. WebAuthn needs a domain for its
// RP ID, so this server's issuer is http://localhost:<port>.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Browser as HttpBrowser, csrfToken, pageText, type Page as HttpPage } from '../helpers/browser.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { authRequest, createUser, oidc, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { secondsLeftInStep, totp } from '../helpers/totp.ts';

const APP = 'https://app.example.test/callback';

describe('passkeys in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let client: TestClient;
  before(async () => {
    server = await startTestServer({ ISSUER: 'http://localhost:{port}' });
    browser = await launchChromium();
    client = await registerClient(server, { name: 'Darkroom', redirectUri: APP });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `passkey-${name}.png`), fullPage: true });

  /** A browser context with a platform authenticator that verifies the person (like Touch ID). */
  async function withAuthenticator(): Promise<{ context: BrowserContext; page: Page; credentials(): Promise<unknown[]> }> {
    const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
    // The app's redirect URI does not exist here: answer it so the code can be read from the address.
    await context.route('https://app.example.test/**', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' }));
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return { context, page, credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials };
  }

  async function passwordSignIn(page: Page, email: string, password: string) {
    await page.goto(`${server.issuer}/account`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
  }

  /** An app sends the person to sign in; the password, up to the second step. */
  async function passwordThenSecondStep(page: Page, app: TestClient, person: { email: string; password: string }) {
    const req = await authRequest(app);
    await page.goto(req.url.href);
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    return req;
  }

  /** Sign-in methods → Add a passkey → the password (and code) again → the browser's ceremony. */
  async function confirmToAdd(page: Page, password: string, code?: string) {
    await page.goto(`${server.issuer}/account/sign-in-methods`);
    await page.getByRole('link', { name: 'Add a passkey' }).click();
    await page.getByLabel('Your password, to confirm').fill(password);
    if (code) await page.getByLabel('Code from your authenticator app').fill(code);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
  }

  async function addPasskey(page: Page, password: string, name: string, code?: string) {
    await confirmToAdd(page, password, code);
    await page.getByRole('heading', { name: 'Add a passkey' }).waitFor();
    await page.getByLabel(/Name it/).fill(name);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL(/\/account\/sign-in-methods\?notice=passkey-added$/);
  }

  /** The person allows the app; the app's side: the code in the address the browser ended at, redeemed. */
  async function allowAndRedeem(page: Page, req: Awaited<ReturnType<typeof authRequest>>) {
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/^https:\/\/app\.example\.test\/callback/);
    return oidc.authorizationCodeGrant(client.config, new URL(page.url()), {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
  }

  it('added after the password, named; then used instead of the password: amr says a hardware key and two factors', async () => {
    const person = await createUser(server, 'lise@example.test', 'nuclear fission 1938', 'Lise Meitner');
    const { context, page, credentials } = await withAuthenticator();
    await passwordSignIn(page, person.email, person.password);
    await shot(page, '1-account');

    // A wrong password adds nothing; the error is tied to its field and focused.
    await confirmToAdd(page, 'not my password');
    assert.match(await page.getByRole('alert').innerText(), /Your password is not correct/);
    assert.equal(await page.getByLabel('Your password, to confirm').getAttribute('aria-invalid'), 'true');
    assert.equal((await credentials()).length, 0);

    await page.getByLabel('Your password, to confirm').fill(person.password);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('heading', { name: 'Add a passkey' }).waitFor();
    await shot(page, '2-add');
    await page.getByLabel(/Name it/).fill('Work laptop');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL(/\/account\/sign-in-methods\?notice=passkey-added$/);
    assert.match(await page.locator('main').innerText(), /Work laptop/);
    await shot(page, '3-added');
    assert.equal((await credentials()).length, 1, 'the authenticator holds one discoverable credential');
    assert.equal(await server.runtime.passkeys.count(person.id), 1);

    // Signed out, an app sends the person to sign in: the passkey alone does it.
    await context.clearCookies();
    const req = await authRequest(client);
    await page.goto(req.url.href);
    await page.getByRole('button', { name: 'Use a passkey instead' }).waitFor();
    await shot(page, '4-login');
    await page.getByRole('button', { name: 'Use a passkey instead' }).click();
    const tokens = await allowAndRedeem(page, req);
    assert.deepEqual(tokens.claims()!.amr, ['hwk', 'mfa']);
    assert.equal(tokens.claims()!.acr, 'urn:latchkey:acr:mfa');
    assert.equal(tokens.claims()!.sub, person.id);
    const used = (await server.runtime.audit.list({ userId: person.id })).map((e) => e.type);
    assert.ok(used.includes('passkey_added') && used.includes('passkey_used'), used.join(' '));
    assert.ok((await server.runtime.passkeys.list(person.id))[0]!.lastUsedAt, 'last use is recorded');
    await context.close();
  });

  it('a removed passkey, and a replayed passkey answer, are refused', async () => {
    const person = await createUser(server, 'chien-shiung@example.test', 'parity violation 1956', 'Chien-Shiung Wu');
    const { context, page } = await withAuthenticator();
    await passwordSignIn(page, person.email, person.password);
    await addPasskey(page, person.password, 'Phone');

    // Record what the browser sends when signing in with it.
    let captured = '';
    await page.route('**/interaction/*/passkey', async (route) => {
      captured = new URLSearchParams(route.request().postData() ?? '').get('credential') ?? '';
      await route.continue();
    });
    await context.clearCookies();
    await page.goto(`${server.issuer}/account`);
    await page.getByRole('button', { name: 'Use a passkey instead' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.ok(captured.includes('"authenticatorData"'));

    // The same answer sent again, to a new sign-in: its challenge was used.
    const attacker = new HttpBrowser(server.issuer);
    const login = (await attacker.navigate((await authRequest(client)).url.href)) as HttpPage;
    const uid = login.url.match(/\/interaction\/([^/?]+)/)![1]!;
    const replay = (await attacker.navigate(`${server.issuer}/interaction/${uid}/passkey`, {
      form: { csrf: csrfToken(login.html), credential: captured },
    })) as HttpPage;
    assert.equal(replay.status, 401);
    assert.match(pageText(replay.html), /That passkey was not accepted/);
    const garbage = (await attacker.navigate(`${server.issuer}/interaction/${uid}/passkey`, {
      form: { csrf: csrfToken(replay.html), credential: '{"id":"x"' },
    })) as HttpPage;
    assert.equal(garbage.status, 401);

    // Removing it needs the password; then the authenticator's credential opens nothing.
    await page.goto(`${server.issuer}/account/sign-in-methods`);
    await page.getByRole('link', { name: 'Remove Phone' }).click();
    await page.getByLabel('Your password, to confirm').fill('wrong password here');
    await page.getByRole('button', { name: 'Remove the passkey “Phone”' }).click();
    assert.match(await page.getByRole('alert').innerText(), /Your password is not correct/);
    assert.equal(await server.runtime.passkeys.count(person.id), 1);
    await page.getByLabel('Your password, to confirm').fill(person.password);
    await page.getByRole('button', { name: 'Remove the passkey “Phone”' }).click();
    await page.waitForURL(/notice=passkey-removed/);
    assert.equal(await server.runtime.passkeys.count(person.id), 0);

    await context.clearCookies();
    await page.goto(`${server.issuer}/account`);
    await page.getByRole('button', { name: 'Use a passkey instead' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /not accepted/ })
      .waitFor();
    assert.match(page.url(), /\/interaction\/[^/]+\/passkey$/);
    await shot(page, '5-removed-refused');
    const failures = (await server.runtime.audit.list({ limit: 20 })).filter((e) => e.type === 'login_failed' && e.detail?.reason === 'bad_passkey');
    assert.ok(failures.length >= 3, `${failures.length} refusals audited`);
    await context.close();
  });

  it('as the second step: after the password, a person with an authenticator app may use the passkey instead of a code', async () => {
    if (secondsLeftInStep() < 5) await new Promise((r) => setTimeout(r, secondsLeftInStep() * 1000 + 200));
    const person = await createUser(server, 'emmy@example.test', 'invariant theory 1918', 'Emmy Noether');
    const { context, page } = await withAuthenticator();
    await passwordSignIn(page, person.email, person.password);
    await addPasskey(page, person.password, 'Desk key');
    // An authenticator app too (set up through the service, as the account page does).
    const enrollment = await server.runtime.secondFactor.beginEnrollment(person.id);
    await server.runtime.secondFactor.confirmEnrollment(person.id, enrollment.token, totp(enrollment.secret));

    await context.clearCookies();
    const req = await passwordThenSecondStep(page, client, person);
    await shot(page, '6-second-step');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    const tokens = await allowAndRedeem(page, req);
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'hwk']);
    assert.equal(tokens.claims()!.acr, 'urn:latchkey:acr:mfa');
    await context.close();
  });

  it('an app that requires two factors accepts a passkey as the second step of a person without an authenticator app', async () => {
    const person = await createUser(server, 'katherine.j@example.test', 'orbital trajectories 1961', 'Katherine Johnson');
    const strict = await registerClient(server, { name: 'Mission Control', redirectUri: APP });
    await server.runtime.clients.update(strict.clientId, { requireMfa: true });
    const { context, page } = await withAuthenticator();
    await passwordSignIn(page, person.email, person.password);
    await addPasskey(page, person.password, 'Laptop');
    await context.clearCookies();
    const req = await passwordThenSecondStep(page, strict, person);
    assert.equal(await page.getByLabel('Verification code').count(), 0, 'no code field: there is no authenticator app');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/^https:\/\/app\.example\.test\/callback/);
    const tokens = await oidc.authorizationCodeGrant(strict.config, new URL(page.url()), {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'hwk']);
    assert.equal(tokens.claims()!.acr, 'urn:latchkey:acr:mfa');
    await context.close();
  });

  it("another person's passkey does not pass someone else's second step, even from a browser that offers it", async () => {
    if (secondsLeftInStep() < 5) await new Promise((r) => setTimeout(r, secondsLeftInStep() * 1000 + 200));
    // The victim: password, authenticator app and a passkey on their own device.
    const victim = await createUser(server, 'rosalind@example.test', 'photograph fifty-one 1952', 'Rosalind Franklin');
    const own = await withAuthenticator();
    await passwordSignIn(own.page, victim.email, victim.password);
    await addPasskey(own.page, victim.password, 'Lab key');
    await own.context.close();
    const enrollment = await server.runtime.secondFactor.beginEnrollment(victim.id);
    await server.runtime.secondFactor.confirmEnrollment(victim.id, enrollment.token, totp(enrollment.secret));

    // The attacker knows the victim's password and has a passkey of their own here.
    const mallory = await createUser(server, 'mallory@example.test', 'borrowed credentials 2026', 'Mallory');
    const { context, page } = await withAuthenticator();
    await passwordSignIn(page, mallory.email, mallory.password);
    await addPasskey(page, mallory.password, 'Mine');
    await context.clearCookies();
    // Their browser ignores the list of the victim's passkeys and answers with any passkey it holds.
    await page.addInitScript(`
      const get = navigator.credentials.get.bind(navigator.credentials);
      navigator.credentials.get = (o) => { if (o && o.publicKey) o.publicKey.allowCredentials = []; return get(o); };
    `);
    await passwordThenSecondStep(page, client, victim);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /not accepted/ })
      .waitFor();
    assert.doesNotMatch(page.url(), /app\.example\.test/);
    assert.equal(await page.getByRole('button', { name: 'Allow' }).count(), 0, 'no consent page: the sign-in did not complete');
    const refused = (await server.runtime.audit.list({ userId: victim.id })).filter((e) => e.type === 'login_failed' && e.detail?.reason === 'bad_passkey');
    assert.equal(refused.length, 1);
    await context.close();
  });

  it('without JavaScript, the passkey button stays hidden and the password still signs in', async () => {
    const person = await createUser(server, 'cecilia@example.test', 'stellar atmospheres 1925', 'Cecilia Payne');
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.issuer}/account`);
    assert.equal(await page.getByRole('button', { name: 'Use a passkey instead' }).isVisible(), false);
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await context.close();
  });
});
