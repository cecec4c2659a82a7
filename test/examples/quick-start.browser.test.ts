// The README's quick start, as written: the app registered by its own
// `client create` command, the person by `user create --email-verified`,
// the example app (`npm run example`) started against the server, and a
// person signed in to it in Chromium, ending on the ID token's claims. The
// account page then shows the address as confirmed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { startExampleApp } from '../../examples/relying-party.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { adminCli } from '../helpers/cli.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server.ts';

describe('the quick start ends in a sign-in', () => {
  let server: TestServer;
  let browser: Browser;
  let app: Server | undefined;
  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  after(async () => {
    app?.close();
    await browser?.close();
    await server?.stop();
  });

  it("the README's commands register the app and the person; the example app signs the person in and shows the ID token's claims", async () => {
    const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
    const port = await freePort();
    const created = await admin('client', 'create', '--name', 'Example app', '--redirect-uri', `http://localhost:${port}/callback`, '--json');
    assert.equal(created.code, 0, created.stderr);
    const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    const person = await admin(
      'user',
      'create',
      '--email',
      'ada@example.com',
      '--password',
      'a long passphrase',
      '--name',
      'Ada',
      '--email-verified',
      '--json',
    );
    assert.equal(person.code, 0, person.stderr);

    const started = await startExampleApp({ issuer: server.issuer, clientId: client.client_id, clientSecret: client.client_secret, port });
    app = started.server;
    const page = await browser.newPage();
    await page.goto(started.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email address').fill('ada@example.com');
    await page.getByLabel('Password').fill('a long passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: 'Signed in as Ada' }).waitFor();
    const claims = JSON.parse(await page.locator('#claims').innerText()) as Record<string, unknown>;
    assert.equal(claims.email, 'ada@example.com');
    assert.equal(claims.email_verified, true);
    assert.equal(claims.iss, server.issuer);
    await page.screenshot({ path: join(ARTIFACTS, 'quick-start-signed-in.png'), fullPage: true });

    await page.goto(`${server.issuer}/account`);
    const account = await page.locator('main').innerText();
    assert.match(account, /Confirmed/);
    assert.doesNotMatch(account, /Not confirmed/);
    await page.close();
  });
});
