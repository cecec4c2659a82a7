// The console's pages as the Chromium suites walk them (console.browser and
// console-dark.browser, one colour scheme and language each, side by side):
// signing in with the password and an authenticator code, then every page and
// state, each checked with axe-core and photographed.
import type { BrowserContext, Page } from 'playwright-core';
import type { pageChecker } from '../helpers/axe.ts';
import { createUser } from '../helpers/relying-party.ts';
import type { TestServer } from '../helpers/server.ts';
import { totp } from '../helpers/totp.ts';
import { personWithFactor, type Admin } from './console-helpers.ts';

/** Where the console suites put their screenshots (under test-artifacts/). */
export const SHOTS_DIR = 'console';

/** Signs in at /admin with the password and the code `step` steps from the server's now. */
export async function signIn(server: TestServer, page: Page, who: Admin, step = 0) {
  await page.goto(`${server.url}/admin`);
  await page.locator('#email').fill(who.email);
  await page.locator('#password').fill(who.password);
  await page.locator('form[action$="/login"] button[type=submit]').click();
  await page.locator('#code').fill(totp(who.secret, step, server.runtime.clock.now()));
  await page.locator('form[action$="/code"] button[type=submit]').click();
  await page.waitForURL(/\/admin(\?|$)/);
}

/**
 * Every console page and state, each checked with axe-core and photographed
 * by `check` (test/helpers/axe.ts); what it found.
 */
export async function everyPage(server: TestServer, context: BrowserContext, label: string, checker: ReturnType<typeof pageChecker>): Promise<string[]> {
  const problems: string[] = [];
  const page = await context.newPage();
  const check = checker(page, label, problems);
  const admin = await personWithFactor(server, ['latchkey-admin']);
  const ada = await createUser(server, `ada-${label}@example.test`, 'a long enough passphrase 1', 'Ada Lovelace');
  await server.runtime.users.addRole(ada.id, 'billing-admin');
  const { record } = await server.runtime.apiKeys.create({ owner: { userId: ada.id }, name: 'deploy bot', scope: 'invoices.read' });
  await signIn(server, page, admin);
  await check('overview');
  await page.goto(`${server.url}/admin/people`);
  await check('people');
  await page.goto(`${server.url}/admin/people?q=nobody-matches-this`);
  await check('people-none');
  await page.goto(`${server.url}/admin/people/${ada.id}`);
  await check('person');
  await page.locator('#role').fill('not a role!');
  await page.locator('form[action$="/roles"] button[type=submit]').click();
  await check('person-role-error');
  await page.goto(`${server.url}/admin/people/${ada.id}/disable`);
  await check('confirm-disable');
  await page.goto(`${server.url}/admin/people/${ada.id}/second-factor/reset`);
  await check('confirm-reset-factor');
  await page.goto(`${server.url}/admin/people/new`);
  await check('person-new');
  await page.locator('#create-email').fill(`grace-${label}@example.test`);
  await page.locator('form[action="/admin/people"] button[type=submit]').click();
  await check('person-link');
  await page.goto(`${server.url}/admin/api-keys/${record.id}/revoke`);
  await check('confirm-revoke-key');
  await page.goto(`${server.url}/admin/apps/new`);
  await check('app-new');
  await page.locator('#app-name').fill(`Shop ${label}`);
  await page.locator('#app-redirect-uris').fill('http://shop.example.test/not-https');
  await page.locator('main form button[type=submit]').click();
  await check('app-new-error');
  await page.locator('#app-redirect-uris').fill('https://shop.example.test/callback');
  await page.locator('main form button[type=submit]').click();
  await check('app-secret');
  const clientId = (await page.locator('#client-id').innerText()).trim();
  await page.goto(`${server.url}/admin/apps`);
  await check('apps');
  await page.goto(`${server.url}/admin/apps/${clientId}`);
  await check('app');
  await page.goto(`${server.url}/admin/apps/${clientId}/rotate`);
  await check('confirm-rotate');
  await page.goto(`${server.url}/admin/apps/${clientId}/delete`);
  await check('confirm-delete-app');
  await page.goto(`${server.url}/admin/apis`);
  await check('apis');
  await page.goto(`${server.url}/admin/apis/new`);
  await check('api-new');
  await page.goto(`${server.url}/admin/apis/${encodeURIComponent('https://billing.example.test')}`);
  await check('api');
  await page.goto(`${server.url}/admin/service-accounts/new`);
  await check('service-account-new');
  await page.locator('#sa-name').fill(`sync ${label}`);
  await page.locator('#sa-scope').fill('invoices.read');
  await page.locator('main form button[type=submit]').click();
  await check('service-account-credential');
  const accountId = (await page.locator('#client-id').innerText()).trim();
  await page.goto(`${server.url}/admin/service-accounts`);
  await check('service-accounts');
  await page.goto(`${server.url}/admin/service-accounts/${accountId}`);
  await check('service-account');
  const kid = (await server.runtime.serviceAccounts.get(accountId)).keys[0]!.kid;
  await page.goto(`${server.url}/admin/service-accounts/${accountId}/keys/${encodeURIComponent(kid)}/expire`);
  await check('confirm-expire-key');
  await page.goto(`${server.url}/admin/api-keys`);
  await check('api-keys');
  await page.goto(`${server.url}/admin/signing-keys`);
  await check('signing-keys');
  await page.goto(`${server.url}/admin/signing-keys/rotate`);
  await check('confirm-rotate-signing-key');
  await page.goto(`${server.url}/admin/settings`);
  await check('settings');
  await page.goto(`${server.url}/admin/audit`);
  await check('audit');
  await page.goto(`${server.url}/admin/audit?since=yesterday`);
  await check('audit-error');
  await page.goto(`${server.url}/admin/reauthenticate?why=old`);
  await check('reauthenticate');
  // Someone without a console role.
  await context.clearCookies();
  const stranger = await personWithFactor(server, []);
  await signIn(server, page, stranger);
  await check('forbidden');
  await page.close();
  return problems;
}
