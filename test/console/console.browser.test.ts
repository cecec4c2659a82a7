// The admin console in Chromium, as an administrator uses it: signing in with
// the password and an authenticator code, every console page and state checked
// with axe-core (WCAG 2.2 AA, zero violations) in English/light (German/dark is
// console-dark.browser.test.ts, run beside this one), with a screenshot of
// each in test-artifacts/console/; then a
// person disabled with the keyboard alone (Tab to the link, Enter, Tab to the
// button, Enter), which ends their session; and an administrator's tasks done
// in the browser, each seen to take effect outside it: an app registered and a
// person signed in to it, its secret replaced with both working during the
// overlap, a key revoked and introspection answering inactive. One server,
// one browser.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';
import { Browser as Agent } from '../helpers/browser.ts';
import { codeFlow, createUser, discover } from '../helpers/relying-party.ts';
import { pageChecker, TAGS } from '../helpers/axe.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { personWithFactor, secretWorks as secretOk } from './console-helpers.ts';
import { everyPage, SHOTS_DIR, signIn } from './console-pages.ts';

const SHOTS = join(ARTIFACTS, SHOTS_DIR);

describe('the admin console in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  const report: string[] = [];

  before(async () => {
    // CI once lost this suite here with the error cut from its output: say which step failed, where CI's excerpt shows it.
    let step = 'starting the server';
    try {
      mkdirSync(SHOTS, { recursive: true });
      server = await startTestServer();
      step = 'creating the resource';
      await server.runtime.resources.create({ identifier: 'https://billing.example.test', scope: 'invoices.read' });
      step = 'launching Chromium';
      browser = await launchChromium();
    } catch (err) {
      console.log(`the console suite's set-up failed ${step}: ${(err as Error).stack ?? String(err)}`);
      throw err;
    }
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    console.log(`axe-core ${TAGS.join(', ')} over the console:\n${report.join('\n')}`);
  });

  const checker = pageChecker(SHOTS, report);

  it('English in the light scheme: zero violations on every console page', async () => {
    const context = await browser.newContext({ locale: 'en-GB', colorScheme: 'light', viewport: { width: 390, height: 844 }, bypassCSP: true });
    const problems = await everyPage(server, context, 'en-light', checker);
    await context.close();
    assert.deepEqual(problems, []);
  });

  it('an administrator disables a person with the keyboard alone, and their session ends', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const admin = await personWithFactor(server, ['latchkey-admin']);
    const grace = await createUser(server);
    const theirs = await browser.newContext();
    const theirPage = await theirs.newPage();
    await theirPage.goto(`${server.url}/account`);
    await theirPage.locator('#email').fill(grace.email);
    await theirPage.locator('#password').fill(grace.password);
    await theirPage.locator('form[action$="/login"] button[type=submit]').click();
    await theirPage.waitForURL(/\/account$/);

    await signIn(server, page, admin);
    await page.goto(`${server.url}/admin/people/${grace.id}`);
    /** Tabs until the focused element matches `selector` (at most 40 presses). */
    const tabTo = async (selector: string) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
      }
      assert.fail(`Tab never reached ${selector}`);
    };
    await tabTo(`a[href$="/admin/people/${grace.id}/disable"]`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/disable$/);
    await tabTo('main form button[type=submit]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/notice=disabled/);
    assert.match(await page.locator('[role=status]').innerText(), /The account is disabled/);
    assert.equal((await server.runtime.users.get(grace.id)).disabled, true);
    await theirPage.goto(`${server.url}/account`);
    assert.ok(await theirPage.locator('#email').isVisible(), 'their browser is asked to sign in again');
    await theirs.close();
    await context.close();
  });

  it("an administrator's tasks in Chromium take effect: an app a person signs in to, its secret replaced with an overlap, a key revoked", async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const admin = await personWithFactor(server, ['latchkey-admin']);
    await signIn(server, page, admin);
    const secretWorks = (clientId: string, secret: string) => secretOk(server, clientId, secret);

    // Register an app; a person signs in to it with the secret the page showed once.
    await page.goto(`${server.url}/admin/apps/new`);
    await page.locator('#app-name').fill('Chromium Shop');
    await page.locator('#app-redirect-uris').fill('https://shop.example.test/callback');
    await page.locator('main form button[type=submit]').click();
    const clientId = (await page.locator('#client-id').innerText()).trim();
    const first = (await page.locator('#client-secret').innerText()).trim();
    const person = await createUser(server);
    const config = await discover(server, clientId, first);
    const { tokens } = await codeFlow(
      { clientId, clientSecret: first, redirectUri: 'https://shop.example.test/callback', config },
      new Agent(server.url),
      person,
    );
    assert.equal(tokens.claims()?.sub, person.id, 'the person signed in to the new app');

    // Replace its secret with an hour's overlap: both work meanwhile.
    await page.goto(`${server.url}/admin/apps/${clientId}/rotate`);
    await page.locator('#overlap-3600').check();
    await page.locator('main form button[type=submit]').click();
    const second = (await page.locator('#client-secret').innerText()).trim();
    assert.notEqual(second, first);
    assert.deepEqual([await secretWorks(clientId, first), await secretWorks(clientId, second)], [true, true], 'both secrets during the overlap');

    // Revoke a person's key: introspection answers inactive at once.
    await server.runtime.resources.create({ identifier: 'https://ledger.example.test', scope: 'ledger.read' });
    const rs = await resourceServerClient(server, ['https://ledger.example.test']);
    const { key, record } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'ledger bot', scope: 'ledger.read' });
    assert.equal((await introspect(server, rs, { token: key })).body.active, true);
    await page.goto(`${server.url}/admin/api-keys/${record.id}/revoke`);
    await page.locator('main form button[type=submit]').click();
    await page.waitForURL(/notice=/);
    assert.deepEqual((await introspect(server, rs, { token: key })).body, { active: false }, 'inactive once revoked in the console');

    const changes = (await server.runtime.audit.list({ limit: 50 })).filter((e) => e.actor === `person:${admin.id}`).map((e) => e.type);
    for (const type of ['client.created', 'client.secret_rotated', 'api_key_revoked'])
      assert.ok(changes.includes(type), `${type} audited as the administrator: ${changes.join(', ')}`);
    await context.close();
  });
});
