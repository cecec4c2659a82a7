// The account page's API keys section in Chromium with JavaScript off: create
// a key (shown once, in a field ready to copy), see it listed, use it,
// revoke it; and a cross-site form post is refused.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';

const API = 'https://reports.example.test';

describe('API keys on the account page, in Chromium without JavaScript', () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: API, scope: 'reports.read reports.write' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `api-keys-${name}.png`), fullPage: true });

  it('create (shown once, copyable), list, revoke', async () => {
    const person = await createUser(server, 'grace@example.test', 'compilers are fun 1952', 'Grace Hopper');
    const rs = await resourceServerClient(server, [API]);
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 480, height: 1400 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/account`);
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByRole('navigation', { name: 'Your account' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('link', { name: 'Create an API key' }).click();

    await page.getByLabel('Name', { exact: true }).fill('nightly report');
    // Only the scopes the person may hold, as checkboxes grouped by API.
    const group = page.getByRole('group', { name: `At ${API}` });
    assert.deepEqual(await group.getByRole('checkbox').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('value'))), [
      `${API} reports.read`,
      `${API} reports.write`,
    ]);
    await group.getByLabel('reports.read', { exact: true }).check();
    // Making a key asks for the password again, labelled as such.
    await page.getByLabel('Your password, to confirm').fill(person.password);
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByRole('heading', { name: 'Copy your new API key' }).waitFor();
    assert.match(await page.getByRole('alert').innerText(), /You will not see it again/);
    const field = page.getByLabel('API key “nightly report”');
    assert.equal(await field.getAttribute('readonly'), '');
    const key = await field.inputValue();
    assert.match(key, /^lk_test_[0-9A-Za-z]{40}$/);
    await shot(page, '1-created');
    assert.equal((await introspect(server, rs, { token: key })).body.active, true);

    await page.getByRole('link', { name: /back to your API keys/ }).click();
    const list = page.locator('#api-key-list');
    const text = await list.innerText();
    assert.match(text, /nightly report/);
    assert.match(text, new RegExp(key.slice(0, 14)));
    assert.ok(!text.includes(key), 'the key itself is never shown again');
    assert.match(text, /reports\.read/);
    assert.match(text, /Last used .+ UTC/, 'the introspection above was a use');
    assert.ok(!(await page.content()).includes(key));
    await shot(page, '2-listed');

    await page.getByRole('button', { name: 'Revoke nightly report' }).click();
    await page.getByText('The API key was revoked').waitFor();
    assert.deepEqual((await introspect(server, rs, { token: key })).body, { active: false });
    await shot(page, '3-revoked');

    // A form without a scope is refused on the page itself, the form kept, the error tied to its field.
    await page.getByRole('link', { name: 'Create an API key' }).click();
    await page.getByLabel('Name', { exact: true }).fill('too little');
    await page.getByLabel('Your password, to confirm').fill(person.password);
    await page.getByRole('button', { name: 'Create API key' }).click();
    assert.match(await page.getByRole('alert').innerText(), /Choose at least one scope/);
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'too little');
    assert.equal(await page.locator('#key-scopes').getAttribute('aria-describedby'), 'key-scopes-hint key-scopes-error');

    // The same form posted without the CSRF token (as another site would) creates nothing.
    const before = (await server.runtime.apiKeys.list({ owner: { userId: person.id } })).length;
    const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const forged = await fetch(`${server.url}/account/api-keys`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies },
      body: new URLSearchParams({ name: 'evil', scope: 'reports.read', password: person.password }),
    });
    assert.equal(forged.status, 403);
    assert.equal((await server.runtime.apiKeys.list({ owner: { userId: person.id } })).length, before);
    await context.close();
  });
});
