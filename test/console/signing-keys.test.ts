// The console's Signing keys page over HTTP: every key and its stage, and a
// rotation (after a page saying what it does) that stages a new key the way
// `keys rotate` and the admin API do; audited with the administrator as actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pageText } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor } from './console-helpers.ts';

describe('the admin console: signing keys', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ KEY_ROTATION_DELAY: '600' });
  });
  after(async () => {
    await server?.stop();
  });

  it('lists the keys with their stages, and stages a new one after a page saying what happens', async () => {
    const admin = await personWithFactor(server, ['latchkey-admin']);
    const { browser, csrf } = await consoleAs(server, admin);
    const before = await server.runtime.admin.signingKeys.status();
    const page = await browser.page(`${server.url}/admin/signing-keys`);
    for (const k of before) assert.match(page.html, new RegExp(`<code>${k.kid.replace(/[-]/g, '\\-')}</code>`));
    assert.match(pageText(page.html), /RS256 .* Signing/);

    const confirm = await browser.page(`${server.url}/admin/signing-keys/rotate`);
    assert.match(pageText(confirm.html), /It signs after 10 minutes \(KEY_ROTATION_DELAY\)/);
    const bad = await browser.request(`${server.url}/admin/signing-keys/rotate`, { form: { csrf, alg: 'HS256' } });
    assert.equal(bad.status, 400);
    await bad.arrayBuffer();
    const done = await browser.request(`${server.url}/admin/signing-keys/rotate`, { form: { csrf, alg: 'ES256' } });
    assert.equal(done.headers.get('location'), '/admin/signing-keys?notice=signing-key-rotated');
    const staged = (await server.runtime.admin.signingKeys.status()).filter((k) => !before.some((b) => b.kid === k.kid));
    assert.deepEqual(
      staged.map((k) => [k.alg, k.state]),
      [['ES256', 'next']],
    );
    const shown = await browser.page(`${server.url}/admin/signing-keys?notice=signing-key-rotated`);
    assert.match(pageText(shown.html), /Published, signs soon/);
    const [row] = await server.runtime.audit.list({ type: 'signing_key.rotated' });
    assert.equal(row?.actor, `person:${admin.id}`);
    assert.equal(row?.target, `signing_key:${staged[0]!.kid}`);
  });
});
