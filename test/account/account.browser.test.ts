// The second factor as a person meets it, in Chromium: set it up from the
// account page, sign out, sign in with password and code, then with a
// recovery code. Screenshots of each page go to test-artifacts/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { secondsLeftInStep, totp } from '../helpers/totp.ts';

describe('two-step verification in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `account-${name}.png`), fullPage: true });

  async function signIn(page: Page, email: string, password: string) {
    await page.goto(`${server.url}/account`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('enrol from the account page, sign out, sign in with a code, then with a recovery code', async () => {
    if (secondsLeftInStep() < 5) await new Promise((r) => setTimeout(r, secondsLeftInStep() * 1000 + 200));
    const person = await createUser(server, 'dorothy@example.test', 'crystallography 1964', 'Dorothy Hodgkin');
    const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
    const page = await context.newPage();

    await signIn(page, person.email, person.password);
    await page.waitForURL(`${server.url}/account`);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await shot(page, '1-account');

    await page.getByRole('link', { name: 'Sign-in methods' }).first().click();
    await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
    await page.getByLabel('Your password, to confirm').fill(person.password);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    assert.ok(await qr.isVisible());
    assert.match(String(await qr.getAttribute('src')), /^data:image\/svg\+xml;base64,/);
    const secret = (await page.locator('#totp-secret').innerText()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await shot(page, '2-enrol');

    await page.getByLabel('Verification code').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.locator('#recovery-codes code').allInnerTexts();
    assert.equal(codes.length, 10);
    const download = page.getByRole('link', { name: 'Download as a text file' });
    assert.equal(await download.getAttribute('download'), 'Latchkey recovery codes.txt');
    assert.ok(decodeURIComponent(String(await download.getAttribute('href'))).includes(codes[0]!));
    await shot(page, '3-recovery-codes');

    await page.goto(`${server.url}/account/sign-in-methods`);
    assert.match(await page.locator('main').innerText(), /You have 10 unused recovery codes/);
    await page.goto(`${server.url}/account`);
    await page.getByRole('link', { name: 'Sign out of this browser' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();

    // Password, then the code.
    await signIn(page, person.email, person.password);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    const codeField = page.getByLabel('Verification code');
    assert.equal(await codeField.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await codeField.getAttribute('inputmode'), 'numeric');
    await shot(page, '4-code');
    await codeField.fill('123456');
    await page.getByRole('button', { name: 'Verify' }).click();
    assert.match(await page.getByRole('alert').innerText(), /That code is not correct/);
    await page.getByLabel('Verification code').fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${server.url}/account`);

    // Lost phone: a recovery code instead, once.
    await context.clearCookies();
    await signIn(page, person.email, person.password);
    await page.getByLabel('Verification code').fill(codes[3]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${server.url}/account`);
    await page.goto(`${server.url}/account/sign-in-methods`);
    assert.match(await page.locator('main').innerText(), /9 unused recovery codes/);
    await shot(page, '5-after-recovery');
    await context.close();
  });
});
