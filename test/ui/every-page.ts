// The pages as the accessibility suites walk them (accessibility.browser and
// accessibility-dark.browser, one colour scheme and language each, side by
// side): a server with open sign-up, mail, brand links and a low lockout,
// and every page and state a person meets on it.
import assert from 'node:assert/strict';
import type { BrowserContext } from 'playwright-core';
import type { pageChecker } from '../helpers/axe.ts';
import { startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, createUser, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { totp } from '../helpers/totp.ts';

/** Where the accessibility suites put their screenshots (under test-artifacts/). */
export const SHOTS_DIR = 'a11y';

export interface PagesServer {
  server: TestServer;
  mail: MailCatcher;
  client: TestClient;
  stop(): Promise<void>;
}

/** The server every page is walked on, with its mail catcher and an app to sign in to. */
export async function startPagesServer(): Promise<PagesServer> {
  const mail = await startMailCatcher();
  const server = await startTestServer({
    REGISTRATION: 'open',
    SMTP_URL: mail.url,
    BRAND_PRIVACY_URL: 'https://example.test/privacy',
    BRAND_TERMS_URL: 'https://example.test/terms',
    LOCKOUT_THRESHOLD: '3',
  });
  const client = await registerClient(server, { name: 'Recipe Box' });
  return {
    server,
    mail,
    client,
    async stop() {
      await server.stop();
      await mail.close();
    },
  };
}

/**
 * Every page and state a person meets, walked in `context` and each checked
 * with axe-core and photographed by `checker`; what it found.
 */
export async function everyPage(
  { server, mail, client }: PagesServer,
  context: BrowserContext,
  label: string,
  checker: ReturnType<typeof pageChecker>,
): Promise<string[]> {
  const problems: string[] = [];
  const page = await context.newPage();
  const check = checker(page, label, problems);
  const person = await createUser(server, `${label}-${Date.now()}@example.test`, 'a long enough passphrase 1', 'Rosalind Franklin');

  await page.goto(`${server.url}/`);
  await check('landing');
  await page.goto((await authRequest(client)).url.href);
  await check('login');
  await page.locator('#email').fill(person.email);
  await page.locator('#password').fill('not the password');
  await page.locator('form[action$="/login"] button[type=submit]').click();
  await check('login-error');
  // Focus is on the error summary after the failed post.
  assert.equal(await page.evaluate('document.activeElement?.className'), 'error-summary', 'focus on the error summary');

  await page.locator('a[href$="/signup"]').click();
  await check('signup');
  await page.locator('#email').fill('not an address');
  await page.locator('form[action$="/signup"] button[type=submit]').click();
  await check('signup-error');
  const newcomer = `${label}-new-${Date.now()}@example.test`;
  await page.locator('#email').fill(newcomer);
  await page.locator('form[action$="/signup"] button[type=submit]').click();
  await check('check-email');
  const [confirm] = await mail.waitFor(newcomer);
  await page.goto(confirm!.text.match(/https?:\/\/\S+\/verify-email\?token=\S+/)![0]);
  await check('finish-signup');
  await page.locator('input[type=password]').first().fill('short');
  await page.locator('input[type=password]').nth(1).fill('short');
  await page.locator('main form button[type=submit]').click();
  await check('finish-signup-error');

  await page.goto((await authRequest(client)).url.href);
  await page.locator('a[href$="/forgot"]').click();
  await check('forgot');
  await page.locator('#email').fill(person.email);
  await page.locator('main form button[type=submit]').click();
  const [reset] = await mail.waitFor(person.email);
  await page.goto(reset!.text.match(/https?:\/\/\S+\/reset-password\?token=\S+/)![0]);
  await check('reset-password');

  // Consent, after signing in.
  await page.goto((await authRequest(client, { scope: 'openid email profile offline_access', prompt: 'consent' })).url.href);
  await page.locator('#email').fill(person.email);
  await page.locator('#password').fill(person.password);
  await page.locator('form[action$="/login"] button[type=submit]').click();
  await page.locator('form[action$="/confirm"]').waitFor();
  await check('consent');

  // Every account section.
  for (const [name, path] of [
    ['account', '/account'],
    ['profile', '/account/profile'],
    ['sign-in-methods', '/account/sign-in-methods'],
    ['apps', '/account/apps'],
    ['sessions', '/account/sessions'],
    ['password', '/account/password'],
    ['api-keys', '/account/api-keys'],
  ] as const) {
    await page.goto(`${server.url}${path}`);
    await check(name);
  }
  await page.goto(`${server.url}/account/password`);
  await page.locator('main form input[type=password]').first().fill('not my password');
  await page.locator('main form input[type=password]').nth(1).fill('a long enough passphrase 2');
  await page.locator('main form input[type=password]').nth(2).fill('a long enough passphrase 3');
  await page.locator('main form button[type=submit]').click();
  await check('password-error');
  await page.goto(`${server.url}/account/confirm?action=totp-setup`);
  await check('confirm');
  await page.locator('#reauth-password').fill('not my password');
  await page.locator('main form button[type=submit]').click();
  await check('confirm-error');
  await page.locator('#reauth-password').fill(person.password);
  await page.locator('main form button[type=submit]').click();
  await check('enroll');
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  await page.locator('#code').fill(totp(secret));
  await page.locator('main form button[type=submit]').click();
  await check('recovery-codes');
  await page.goto(`${server.url}/account/confirm?action=passkey-add`);
  await page.locator('#reauth-password').fill(person.password);
  await page.locator('#reauth-code').fill(totp(secret, 1));
  await page.locator('main form button[type=submit]').click();
  await check('passkey-add');
  // Signing out of this browser, while signed in.
  await page.goto(`${server.url}/session/end`);
  await check('logout');
  await page.locator('button[value=yes]').click();
  await check('logged-out');

  // The second step, and its error.
  await context.clearCookies();
  await page.goto((await authRequest(client)).url.href);
  await page.locator('#email').fill(person.email);
  await page.locator('#password').fill(person.password);
  await page.locator('form[action$="/login"] button[type=submit]').click();
  await page.locator('#code').waitFor();
  await check('code');
  await page.locator('#code').fill('000000');
  await page.locator('form[action$="/code"] button[type=submit]').click();
  await check('code-error');

  // Locked after too many wrong passwords.
  await context.clearCookies();
  await page.goto((await authRequest(client)).url.href);
  for (let i = 0; i < 4; i++) {
    await page.locator('#email').fill(person.email);
    await page.locator('#password').fill(`wrong ${i}`);
    await page.locator('form[action$="/login"] button[type=submit]').click();
    await page.waitForLoadState();
  }
  await check('locked');

  await page.goto(`${server.url}/interaction/does-not-exist`);
  await check('error-expired');
  await page.goto(`${server.url}/no-such-page`);
  await check('error-not-found');
  await page.goto(`${server.url}/auth?client_id=nobody&response_type=code&redirect_uri=https://x.example/cb&scope=openid`);
  await check('error-provider');
  await page.close();
  return problems;
}
