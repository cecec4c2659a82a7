// WCAG 2.2 AA on every page and state, checked by axe-core in Chromium:
// sign-in (and its errors and lockout), sign-up, check your email, reset,
// the second step, set-up and recovery codes, consent, error pages, every
// account section, sign-out, and each mail's HTML. Once in English in the
// light scheme here and once in German in the dark one
// (accessibility-dark.browser.test.ts, run beside this file), at a phone's
// width (390 px), with a screenshot of each in test-artifacts/a11y/. Then a
// sign-in and consent done with the keyboard alone, and the same pages at
// 320 px and at 200% zoom without sideways scrolling.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createMailRenderer, type MailTemplate } from '../../src/services/links/mailer.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { authRequest, createUser, type TestClient } from '../helpers/relying-party.ts';
import { pageChecker, TAGS } from '../helpers/axe.ts';
import { everyPage, SHOTS_DIR, startPagesServer, type PagesServer } from './every-page.ts';
import type { TestServer } from '../helpers/server.ts';

const SHOTS = join(ARTIFACTS, SHOTS_DIR);

describe('every page and mail meets WCAG 2.2 AA (axe-core, Chromium)', () => {
  let pages: PagesServer;
  let server: TestServer;
  let browser: Browser;
  let client: TestClient;
  const report: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    pages = await startPagesServer();
    ({ server, client } = pages);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await pages?.stop();
    // The results in the test output: every page checked, and what each found.
    console.log(`axe-core ${TAGS.join(', ')}:\n${report.join('\n')}`);
  });

  const checker = pageChecker(SHOTS, report);

  it('English in the light scheme: zero violations on every page and state', async () => {
    const context = await browser.newContext({ locale: 'en-GB', colorScheme: 'light', viewport: { width: 390, height: 844 }, bypassCSP: true });
    const problems = await everyPage(pages, context, 'en-light', checker);
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
