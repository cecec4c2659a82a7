// Signing up and resetting a password as a person does, in Chromium, with
// the messages read from a real SMTP server. Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { linkIn, startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('sign-up and password reset in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let mail: MailCatcher;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ REGISTRATION: 'open', SMTP_URL: mail.url });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await mail?.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `people-${name}.png`), fullPage: true });

  it('from the landing page: create an account, confirm it from the mail, sign in', async () => {
    const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await shot(page, '1-landing');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0, 'no password before the address is confirmed');
    await page.getByLabel('Email').fill('marie@example.test');
    await page.getByLabel('Name').fill('Marie Curie');
    await shot(page, '2-signup');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await shot(page, '3-check-email');

    // The link's page: the name as typed, and the password chosen here.
    const link = linkIn((await mail.waitFor('marie@example.test'))[0]!, '/verify-email?token=');
    await page.goto(link);
    await page.getByRole('heading', { name: 'Finish creating your account' }).waitFor();
    assert.equal(await page.getByLabel('Name').inputValue(), 'Marie Curie');
    await page.getByLabel('Choose a password').fill('password1');
    await page.getByLabel('The same password again').fill('password1');
    await page.getByRole('button', { name: 'Create my account' }).click();
    assert.match(await page.getByRole('alert').innerText(), /commonly used password/);
    assert.equal(await page.getByLabel('Name').inputValue(), 'Marie Curie', 'what was typed is kept');
    assert.equal(await page.getByLabel('Choose a password').inputValue(), '', 'except the password');
    await shot(page, '4-confirm-weak');
    await page.getByLabel('Choose a password').fill('radium and polonium');
    await page.getByLabel('The same password again').fill('radium and polonium');
    await page.getByRole('button', { name: 'Create my account' }).click();
    await page.getByRole('heading', { name: 'Your account is ready' }).waitFor();
    await page.getByRole('link', { name: 'Continue to sign in' }).click();
    assert.match(await page.locator('main').innerText(), /Your email address is confirmed/);
    await page.getByLabel('Email').fill('marie@example.test');
    await page.getByLabel('Password', { exact: true }).fill('radium and polonium');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.match(await page.locator('main').innerText(), /Marie Curie/);
    await context.close();
  });

  it('forgot the password: the mailed link sets a new one', async () => {
    const person = await createUser(server, 'ada@example.test', 'analytical engine 1843', 'Ada Lovelace');
    const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/account`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(person.email);
    await shot(page, '5-forgot');
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    await page.goto(linkIn((await mail.waitFor(person.email))[0]!, '/reset-password?token='));
    await page.getByLabel('New password', { exact: true }).fill('difference engine 1822');
    await page.getByLabel('New password again').fill('difference engine 1822');
    await shot(page, '6-reset');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Your password was changed' }).waitFor();
    await shot(page, '7-reset-done');
    await page.getByRole('link', { name: 'Continue to sign in' }).click();
    assert.match(await page.locator('main').innerText(), /Your password was changed\. Sign in with the new one/);
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill('difference engine 1822');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await context.close();
  });
});
