// The admin console in Chromium in German and the dark scheme: every console
// page and state checked with axe-core (WCAG 2.2 AA, zero violations), with a
// screenshot of each in test-artifacts/console/. English/light, the keyboard
// and the tasks are console.browser.test.ts: a file each, so that the two
// longest walks through the console run side by side.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { pageChecker, TAGS } from '../helpers/axe.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { repeatsFirstPass, WALK_IN_ENGLISH } from '../helpers/passes.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { everyPage, SHOTS_DIR } from './console-pages.ts';

const SHOTS = join(ARTIFACTS, SHOTS_DIR);

describe('the admin console in Chromium, in German and dark', { skip: repeatsFirstPass(WALK_IN_ENGLISH) }, () => {
  let server: TestServer;
  let browser: Browser;
  const report: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: 'https://billing.example.test', scope: 'invoices.read' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    console.log(`axe-core ${TAGS.join(', ')} over the console (de, dark):\n${report.join('\n')}`);
  });

  it('German in the dark scheme: zero violations on every console page', async () => {
    const context = await browser.newContext({ locale: 'de-DE', colorScheme: 'dark', viewport: { width: 390, height: 844 }, bypassCSP: true });
    const problems = await everyPage(server, context, 'de-dark', pageChecker(SHOTS, report));
    await context.close();
    assert.deepEqual(problems, []);
  });
});
