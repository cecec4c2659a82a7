// The second factor as a person meets it, in Chromium: set it up from the
// account page, sign out, sign in with password and code, then with a
// recovery code; and what its QR code says, read from the pixels on screen as
// an authenticator app reads them. Screenshots of each page go to
// test-artifacts/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import jsqr from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { secondsLeftInStep, totp } from '../helpers/totp.ts';

// CommonJS typed as ESM: TypeScript sees the decoder only as `.default`.
const jsQR = jsqr.default;
// Characters an otpauth:// label and parameter must escape.
const TOTP_ISSUER = 'Latchkey Tests & Co';

describe('two-step verification in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer({ TOTP_ISSUER });
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

  it('the QR code shown at enrolment decodes to the otpauth URI of the secret beside it, for this issuer and account, and its codes are accepted', async () => {
    if (secondsLeftInStep() < 5) await new Promise((r) => setTimeout(r, secondsLeftInStep() * 1000 + 200));
    const person = await createUser(server, 'rosalind+totp@example.test', 'photograph 51 in 1952', 'Rosalind Franklin');
    const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
    const page = await context.newPage();
    await signIn(page, person.email, person.password);
    await page.waitForURL(`${server.url}/account`);
    await page.goto(`${server.url}/account/confirm?action=totp-setup`);
    await page.getByLabel('Your password, to confirm').fill(person.password);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    const shown = (await page.locator('#totp-secret').innerText()).trim();

    // The image as drawn on screen (its CSS size, padding and scaling), not
    // the SVG source: a screenshot, turned back into RGBA pixels by a canvas.
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.evaluate('(img) => img.decode()');
    const png = (await qr.screenshot()).toString('base64');
    // Page code as a string: the tests are type-checked without the DOM's types.
    const pixels = (await page.evaluate(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${png}';
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      return { width: canvas.width, height: canvas.height, rgba: Array.from(g.getImageData(0, 0, canvas.width, canvas.height).data) };
    })()`)) as { width: number; height: number; rgba: number[] };
    // Dark on light only, as many a scanner reads: an inverted code fails.
    const decoded = jsQR(Uint8ClampedArray.from(pixels.rgba), pixels.width, pixels.height, { inversionAttempts: 'dontInvert' });
    assert.ok(decoded, `no QR code found in the ${pixels.width}×${pixels.height} px enrolment image`);

    // Key URI format as authenticator apps read it: issuer:account label, the
    // issuer again as a parameter, the secret shown beside the image, RFC 6238's defaults.
    const enc = encodeURIComponent;
    assert.equal(
      decoded.data,
      `otpauth://totp/${enc(TOTP_ISSUER)}:${enc(person.email)}?issuer=${enc(TOTP_ISSUER)}&secret=${shown}&algorithm=SHA1&digits=6&period=30`,
    );

    // An app that scanned it makes codes the server accepts.
    const scanned = new URL(decoded.data).searchParams.get('secret')!;
    await page.getByLabel('Verification code').fill(totp(scanned));
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await context.close();
  });
});
