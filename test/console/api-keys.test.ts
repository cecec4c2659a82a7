// The console's API keys page over HTTP: keys of every owner (people and
// service accounts), filtered by owner as the admin API's owner_id, and a
// service account's key revoked from there (introspection answers inactive).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';
import { pageText } from '../helpers/browser.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor } from './console-helpers.ts';

const BILLING = 'https://billing.example.test';

describe('the admin console: API keys of every owner', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read' });
  });
  after(async () => {
    await server?.stop();
  });

  it("lists every owner's keys, filters by owner, and revokes a service account's key", async () => {
    const rs = await resourceServerClient(server, [BILLING]);
    const admin = await personWithFactor(server, ['latchkey-admin']);
    const { browser, csrf } = await consoleAs(server, admin);
    const ada = await createUser(server);
    const sa = (await server.runtime.serviceAccounts.create({ name: 'nightly', scope: 'invoices.read', generateKey: 'ES256' })).account.clientId;
    await server.runtime.apiKeys.create({ owner: { userId: ada.id }, name: 'ada laptop', scope: 'invoices.read' });
    const { key, record } = await server.runtime.apiKeys.create({ owner: { clientId: sa }, name: 'nightly export', scope: 'invoices.read' });

    const all = pageText((await browser.page(`${server.url}/admin/api-keys`)).html);
    assert.match(all, /ada laptop/);
    assert.match(all, /nightly export/);
    const theirs = pageText((await browser.page(`${server.url}/admin/api-keys?owner_id=${sa}`)).html);
    assert.match(theirs, /nightly export/);
    assert.doesNotMatch(theirs, /ada laptop/);
    const nobody = await browser.request(`${server.url}/admin/api-keys?owner_id=no-such-owner`);
    assert.equal(nobody.status, 404);
    assert.match(await nobody.text(), /id="keys-owner"[^>]*aria-invalid="true"/);

    assert.equal((await introspect(server, rs, { token: key })).body.active, true);
    const revoked = await browser.request(`${server.url}/admin/api-keys/${record.id}/revoke`, { form: { csrf } });
    assert.equal(revoked.headers.get('location'), `/admin/api-keys?owner_id=${encodeURIComponent(sa)}&notice=key-revoked`);
    assert.deepEqual((await introspect(server, rs, { token: key })).body, { active: false });
    const [row] = await server.runtime.audit.list({ type: 'api_key_revoked', clientId: sa });
    assert.equal(row?.actor, `person:${admin.id}`);
  });

  it('filters by keys expiring within some days, never used, last used before a day (as the admin API does); a bad filter is explained', async () => {
    const admin = await personWithFactor(server, ['latchkey-admin']);
    const { browser } = await consoleAs(server, admin);
    const grace = await createUser(server);
    const make = async (name: string, expires: string) =>
      (await server.runtime.apiKeys.create({ owner: { userId: grace.id }, name, scope: 'invoices.read', expires })).record.id;
    await make('expires-soon', '3d');
    await make('expires-later', '60d');
    const stale = await make('used-long-ago', '60d');
    const now = server.runtime.clock.now();
    await server.runtime.db.apiKey.update({ where: { id: stale }, data: { lastUsedAt: new Date(now - 40 * 86_400_000) } });
    const listed = async (q: string) => {
      const page = await browser.page(`${server.url}/admin/api-keys?owner_id=${grace.id}&${q}`);
      assert.equal(page.status, 200);
      return [...page.html.matchAll(/<strong>(expires-soon|expires-later|used-long-ago)<\/strong>/g)].map((m) => m[1]);
    };
    assert.deepEqual(await listed('expiring_within_days=7'), ['expires-soon']);
    assert.deepEqual(await listed('never_used=true'), ['expires-soon', 'expires-later']);
    const day = new Date(now - 30 * 86_400_000).toISOString().slice(0, 10);
    assert.deepEqual(await listed(`last_used_before=${day}`), ['used-long-ago']);
    const page = await browser.page(`${server.url}/admin/api-keys?owner_id=${grace.id}&never_used=true`);
    assert.match(page.html, /id="keys-never-used"[^>]*checked/, 'the filter stays set on the page');
    const bad = await browser.request(`${server.url}/admin/api-keys?expiring_within_days=-1&last_used_before=tomorrow`);
    assert.equal(bad.status, 400);
    const html = await bad.text();
    assert.match(html, /id="keys-expiring"[^>]*aria-invalid="true"/);
    assert.match(html, /id="keys-last-used-before"[^>]*aria-invalid="true"/);
  });
});
