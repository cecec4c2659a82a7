// The console's Overview over HTTP: the counts (each one count query) and the
// most recent audit events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pageText } from '../helpers/browser.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor } from './console-helpers.ts';

describe('the admin console: overview', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('counts people (and the disabled), apps, APIs, service accounts, sessions, keys expiring within 14 days, signing key stages', async () => {
    const rt = server.runtime;
    await rt.resources.create({ identifier: 'https://billing.example.test', scope: 'invoices.read' });
    const ada = await createUser(server);
    const grace = await createUser(server);
    await rt.users.update(grace.id, { disabled: true });
    await rt.clients.create({ name: 'Shop', redirectUris: ['https://shop.example.test/cb'] });
    await rt.clients.create({ name: 'Blog', redirectUris: ['https://blog.example.test/cb'] });
    await rt.serviceAccounts.create({ name: 'nightly', scope: 'invoices.read', generateKey: 'ES256' });
    await rt.apiKeys.create({ owner: { userId: ada.id }, name: 'soon', scope: 'invoices.read', expires: '10d' });
    await rt.apiKeys.create({ owner: { userId: ada.id }, name: 'later', scope: 'invoices.read', expires: '30d' });
    const admin = await personWithFactor(server, ['latchkey-admin']);
    const { browser } = await consoleAs(server, admin);
    const page = await browser.page(`${server.url}/admin`);
    const counts = pageText(page.html.slice(page.html.indexOf('id="counts"'), page.html.indexOf('</dl>')));
    assert.match(counts, /People 3 people, 1 of them disabled/);
    assert.match(counts, /Apps 2 /);
    assert.match(counts, new RegExp(`APIs ${(await rt.resources.list()).length} `), 'billing, and the ones Latchkey registers itself');
    assert.match(counts, /Service accounts 1 /);
    assert.match(counts, /Sessions 1 signed-in session/, "the administrator's own");
    assert.match(counts, /1 key expires in the next 14 days/);
    assert.match(counts, /2 signing, 0 published and signing soon, 0 retiring/);
    assert.match(pageText(page.html), /Recent audit events .*login_succeeded/);
  });
});
