// WCAG 2.2 AA on every page and state, checked by axe-core in Chromium:
// sign-in (and its errors and lockout), sign-up, check your email, reset,
// the second step, set-up and recovery codes, consent, error pages, every
// account section, sign-out, and each mail's HTML. Once in English in the
// light scheme and once in German in the dark one, at a phone's width
// (390 px), with a screenshot of each in test-artifacts/a11y/. Then a
// sign-in and consent done with the keyboard alone, and the same pages at
// 320 px and at 200% zoom without sideways scrolling.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { createMailRenderer, type MailTemplate } from '../../src/services/links/mailer.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, createUser, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { pageChecker, TAGS } from '../helpers/axe.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { totp } from '../helpers/totp.ts';

const SHOTS = join(ARTIFACTS, 'a11y');

describe('every page and mail meets WCAG 2.2 AA (axe-core, Chromium)', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let browser: Browser;
  let client: TestClient;
  const report: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    mail = await startMailCatcher();
    server = await startTestServer({
      REGISTRATION: 'open',
      SMTP_URL: mail.url,
      BRAND_PRIVACY_URL: 'https://example.test/privacy',
      BRAND_TERMS_URL: 'https://example.test/terms',
      LOCKOUT_THRESHOLD: '3',
    });
    client = await registerClient(server, { name: 'Recipe Box' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await mail?.close();
    // The results in the test output: every page checked, and what each found.
    console.log(`axe-core ${TAGS.join(', ')}:\n${report.join('\n')}`);
  });

  const checker = pageChecker(SHOTS, report);

  async function everyPage(context: BrowserContext, label: string): Promise<string[]> {
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

  it('English in the light scheme: zero violations on every page and state', async () => {
    const context = await browser.newContext({ locale: 'en-GB', colorScheme: 'light', viewport: { width: 390, height: 844 }, bypassCSP: true });
    const problems = await everyPage(context, 'en-light');
    await context.close();
    assert.deepEqual(problems, []);
  });

  it('German in the dark scheme: zero violations on every page and state', async () => {
    const context = await browser.newContext({ locale: 'de-DE', colorScheme: 'dark', viewport: { width: 390, height: 844 }, bypassCSP: true });
    const problems = await everyPage(context, 'de-dark');
    await context.close();
    assert.deepEqual(problems, []);
  });

  it("every mail's HTML, in both languages: zero violations", async () => {
    const render = createMailRenderer(server.runtime.ui);
    const vars = {
      issuer: server.url,
      name: 'Ada',
      confirmUrl: `${server.url}/verify-email?token=x`,
      resetUrl: `${server.url}/reset-password?token=x`,
      signupUrl: `${server.url}/signup`,
      inviteUrl: `${server.url}/invitation?token=x`,
      hours: 24,
      resetMinutes: 30,
      minutes: 30,
      days: 7,
    };
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const problems: string[] = [];
    const templates: MailTemplate[] = ['signup-confirm', 'signup-exists', 'verify-email', 'reset-password', 'reset-unknown', 'invitation'];
    for (const lang of ['en', 'de']) {
      for (const template of templates) {
        await page.setContent(render(template, vars, lang).html);
        await checker(page, `mail-${lang}`, problems)(template);
      }
    }
    await page.close();
    assert.deepEqual(problems, []);
  });

  it('a sign-in and consent done with the keyboard alone (Tab, Space, Enter), the skip link first and the focus always visible', async () => {
    const person = await createUser(server, `keys-${Date.now()}@example.test`, 'a long enough passphrase 1', 'Grace Hopper');
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto((await authRequest(client, { prompt: 'consent' })).url.href);
    interface Focus {
      id: string;
      tag: string;
      text: string;
      outline: boolean;
    }
    const focused = () =>
      page.evaluate(`(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return { id: el.id, tag: el.tagName, text: (el.textContent || '').trim(), outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
    })()`) as Promise<Focus>;
    /** Tabs until `match` has the focus (at most 30 stops), checking each stop shows its focus. */
    async function tabTo(match: (f: Focus) => boolean) {
      for (let i = 0; i < 30; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        assert.ok(f.outline || f.tag === 'BODY', `focus visible on ${f.tag}#${f.id} "${f.text}"`);
        if (match(f)) return;
      }
      assert.fail('not reached by Tab');
    }
    // The email field has the focus on arrival; the one stop before it is the skip link, the page's first.
    assert.equal((await focused()).id, 'email');
    await page.keyboard.press('Shift+Tab');
    assert.match((await focused()).text, /Skip to the main content/);
    await tabTo((f) => f.id === 'email');
    await page.keyboard.type(person.email);
    await page.keyboard.press('Tab');
    assert.equal((await focused()).id, 'password');
    await page.keyboard.type('a wrong one');
    const answered = page.waitForEvent('load');
    await page.keyboard.press('Enter');
    await answered;
    assert.match((await focused()).text, /There is a problem/, 'the error summary has the focus after a failed post');
    await tabTo((f) => f.tag === 'A' && /email address or password/.test(f.text));
    await page.keyboard.press('Enter');
    // The summary's link leads to the field.
    await tabTo((f) => f.id === 'password');
    await page.keyboard.type(person.password);
    await page.keyboard.press('Enter');
    await page.locator('form[action$="/confirm"]').waitFor();
    await tabTo((f) => f.tag === 'BUTTON' && f.text === 'Allow');
    const arrived = page.waitForRequest((r) => r.url().startsWith(client.redirectUri));
    await page.keyboard.press('Space');
    const callback = new URL((await arrived).url());
    assert.ok(callback.searchParams.get('code'), 'back at the app with a code');
    await page.close();
  });

  it('works at 320 px wide and at 200% zoom: nothing scrolls sideways', async () => {
    const narrow = await browser.newContext({ viewport: { width: 320, height: 640 } });
    // 200% zoom of a 1280 px window lays the page out in 640 CSS px at twice the size.
    const zoomed = await browser.newContext({ viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });
    for (const [label, context] of [
      ['320px', narrow],
      ['zoom200', zoomed],
    ] as const) {
      const page = await context.newPage();
      for (const [name, url] of [
        ['landing', `${server.url}/`],
        ['login', (await authRequest(client)).url.href],
        ['error', `${server.url}/interaction/nope`],
      ] as const) {
        await page.goto(url);
        const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
        assert.ok(overflow <= 0, `${label} ${name}: ${overflow} px scroll sideways`);
        await page.screenshot({ path: join(SHOTS, `${label}-${name}.png`), fullPage: true });
      }
      await context.close();
    }
  });
});
