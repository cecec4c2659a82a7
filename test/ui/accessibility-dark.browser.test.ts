// WCAG 2.2 AA on every page and state in German and the dark scheme, checked
// by axe-core in Chromium at a phone's width (390 px), with a screenshot of
// each in test-artifacts/a11y/. English/light, the mails, the keyboard and
// zoom are accessibility.browser.test.ts: a file each, so that the two walks
// run side by side.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { pageChecker, TAGS } from '../helpers/axe.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { repeatsFirstPass, WALK_IN_ENGLISH } from '../helpers/passes.ts';
import { everyPage, SHOTS_DIR, startPagesServer, type PagesServer } from './every-page.ts';

const SHOTS = join(ARTIFACTS, SHOTS_DIR);

describe('every page meets WCAG 2.2 AA in German and dark (axe-core, Chromium)', { skip: repeatsFirstPass(WALK_IN_ENGLISH) }, () => {
  let pages: PagesServer;
  let browser: Browser;
  const report: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    pages = await startPagesServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await pages?.stop();
    console.log(`axe-core ${TAGS.join(', ')} (de, dark):\n${report.join('\n')}`);
  });

  it('German in the dark scheme: zero violations on every page and state', async () => {
    const context = await browser.newContext({ locale: 'de-DE', colorScheme: 'dark', viewport: { width: 390, height: 844 }, bypassCSP: true });
    const problems = await everyPage(pages, context, 'de-dark', pageChecker(SHOTS, report));
    await context.close();
    assert.deepEqual(problems, []);
  });
});
