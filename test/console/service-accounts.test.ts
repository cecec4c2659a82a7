// The console's service-account pages, as an administrator uses them over
// HTTP: create one with a key made on the server (its private half shown and
// offered for download once, then used for an RFC 7523 jwt-bearer token),
// refuse a pasted private key, roll its keys (add, expire, remove: the old
// key refused, the new one working), change its scopes, and disable it after
// a page naming it; each change audited with the administrator as actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JWK } from 'jose';
import { assertionFor, JWT_BEARER } from '../helpers/admin-api.ts';
import { type Browser, pageText } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor, type Admin } from './console-helpers.ts';

const API = 'https://inventory.example.test';
const accountPath = (id: string) => `/admin/service-accounts/${encodeURIComponent(id)}`;

describe('the admin console: service accounts', () => {
  let server: TestServer;
  let admin: Admin;
  let browser: Browser;
  let csrf: string;

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: API, scope: 'stock.read stock.write', format: 'jwt' });
    admin = await personWithFactor(server, ['latchkey-admin']);
    ({ browser, csrf } = await consoleAs(server, admin));
  });
  after(async () => {
    await server?.stop();
  });

  const post = (path: string, form: Record<string, string> = {}) => browser.request(`${server.url}${path}`, { form: { csrf, ...form } });
  /** The jwt-bearer grant with this key: the server's whole answer. */
  async function token(clientId: string, key: JWK, scope = 'stock.read') {
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: await assertionFor(server, { clientId, key }), resource: API, scope }),
    });
    return (await res.json()) as { access_token?: string; scope?: string; error?: string; error_description?: string };
  }

  /** The answer page of a new key: the client id, and the private key from the download link (the same as shown). */
  async function credentialOf(res: Response) {
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const html = await res.text();
    const clientId = html.match(/id="client-id">([^<]+)</)![1]!;
    const [, b64, filename] = html.match(/href="data:application\/json;base64,([^"]+)" download="([^"]+)"/) ?? [];
    assert.ok(b64 && filename, 'a download link');
    const key = JSON.parse(Buffer.from(b64, 'base64').toString()) as JWK;
    assert.equal(filename, `${clientId}.private.jwk.json`);
    assert.deepEqual(JSON.parse(pageText(html.match(/id="private-key" class="secret">([^<]+)</)![1]!)), key, 'the key shown is the one downloaded');
    return { clientId, key, html };
  }

  async function create(name: string, extra: Record<string, string> = {}) {
    return credentialOf(await post('/admin/service-accounts', { name, scope: 'stock.read stock.write', credential: 'generate', alg: 'ES256', ...extra }));
  }

  it('creates a service account with a generated key, shown and offered for download once; the key gets a jwt-bearer token', async () => {
    const { clientId, key, html } = await create('inventory-sync');
    assert.ok(key.d, 'the private half');
    assert.match(pageText(html), /Copy or download the private key now: it is shown this once/);
    const got = await token(clientId, key);
    assert.equal(got.scope, 'stock.read', JSON.stringify(got));
    assert.ok(got.access_token);

    const shown = await browser.page(`${server.url}${accountPath(clientId)}`);
    assert.doesNotMatch(shown.html, new RegExp(key.d!), 'never shown again');
    assert.match(pageText(shown.html), new RegExp(`${key.kid!} \\(ES256\\)`));
    assert.match(pageText((await browser.page(`${server.url}/admin/service-accounts`)).html), /inventory-sync/);
    const [row] = await server.runtime.audit.list({ clientId, type: 'service_account.created' });
    assert.equal(row?.actor, `person:${admin.id}`);
    assert.equal(JSON.stringify(row?.detail).includes(key.d!), false, 'the private key is not in the audit trail');
  });

  it('refuses a pasted private key and a bad scope, explained beside the form, and creates nothing', async () => {
    const { key } = await create('throwaway');
    const before = (await server.runtime.serviceAccounts.list()).length;
    const pasted = await post('/admin/service-accounts', { name: 'leaky', scope: 'stock.read', credential: 'jwks', jwks: JSON.stringify(key) });
    assert.equal(pasted.status, 400);
    assert.match(pageText(await pasted.text()), /That was not saved: key '[^']+' contains private or symmetric key material; register the public key only/);
    const scope = await post('/admin/service-accounts', {
      name: 'odd',
      scope: 'stock.read',
      default_scope: 'stock.write',
      credential: 'generate',
      alg: 'ES256',
    });
    assert.equal(scope.status, 400);
    assert.match(pageText(await scope.text()), /That was not saved: default scope 'stock\.write' is not in the allowed scopes/);
    assert.equal((await server.runtime.serviceAccounts.list()).length, before);
  });

  it('rolls its keys: a new key works, an expired one and a removed one are refused, after pages naming them', async () => {
    const { clientId, key: first } = await create('reporting');
    const added = await credentialOf(await post(`${accountPath(clientId)}/keys`, { credential: 'generate', alg: 'EdDSA', key_expires: '90d' }));
    const second = added.key;
    assert.equal(added.clientId, clientId);
    assert.ok((await token(clientId, second)).access_token, 'the new key works at once');

    const confirm = await browser.page(`${server.url}${accountPath(clientId)}/keys/${encodeURIComponent(first.kid!)}/expire`);
    assert.match(pageText(confirm.html), new RegExp(`Expire the key ${first.kid} of reporting\\?`));
    assert.match(confirm.html, /value="0" checked/, 'at once, unless chosen otherwise');
    const expired = await post(`${accountPath(clientId)}/keys/${encodeURIComponent(first.kid!)}/expire`, { when: '0' });
    assert.equal(expired.headers.get('location'), `${accountPath(clientId)}?notice=key-expired`);
    const refused = await token(clientId, first);
    assert.equal(refused.error, 'invalid_grant');
    assert.match(refused.error_description!, new RegExp(`key '${first.kid}' expired`));
    assert.ok((await token(clientId, second)).access_token, 'the other key still works');

    const remove = await browser.page(`${server.url}${accountPath(clientId)}/keys/${encodeURIComponent(second.kid!)}/remove`);
    const text = pageText(remove.html);
    assert.match(text, new RegExp(`Remove the key ${second.kid} of reporting\\?`));
    assert.match(text, /1 other key keeps working/);
    const removed = await post(`${accountPath(clientId)}/keys/${encodeURIComponent(second.kid!)}/remove`);
    assert.equal(removed.headers.get('location'), `${accountPath(clientId)}?notice=key-removed`);
    assert.equal((await token(clientId, second)).error, 'invalid_grant');

    const rows = await server.runtime.audit.list({ clientId });
    assert.deepEqual(
      rows.filter((e) => e.type.startsWith('service_account.key')).map((e) => `${e.type} by ${e.actor}`),
      ['key_removed', 'key_expired', 'key_added'].map((t) => `service_account.${t} by person:${admin.id}`),
    );
  });

  it('changes its scopes and grants; disabling it after a page naming it refuses its tokens, enabling lets it back', async () => {
    const { clientId, key } = await create('billing-export');
    assert.equal((await token(clientId, key, 'stock.write')).scope, 'stock.write');
    const saved = await post(accountPath(clientId), { scope: 'stock.read', default_scope: '', grants: 'jwt-bearer' });
    assert.equal(saved.headers.get('location'), `${accountPath(clientId)}?notice=service-account-saved`);
    const narrowed = await token(clientId, key, 'stock.write');
    assert.equal(narrowed.access_token, undefined, `stock.write is no longer allowed: ${JSON.stringify(narrowed)}`);
    assert.equal((await token(clientId, key, 'stock.read')).scope, 'stock.read');
    const account = await server.runtime.serviceAccounts.get(clientId);
    assert.deepEqual(account.metadata.grant_types, [JWT_BEARER]);
    const [updated] = await server.runtime.audit.list({ clientId, type: 'service_account.updated' });
    assert.equal(updated?.actor, `person:${admin.id}`);

    const confirm = await browser.page(`${server.url}${accountPath(clientId)}/disable`);
    assert.match(pageText(confirm.html), /Disable billing-export\?/);
    assert.match(pageText(confirm.html), new RegExp(`billing-export \\(client id ${clientId}\\) gets no new token`));
    const disabled = await post(`${accountPath(clientId)}/disable`);
    assert.equal(disabled.headers.get('location'), `${accountPath(clientId)}?notice=service-account-disabled`);
    assert.equal((await token(clientId, key)).access_token, undefined, 'a disabled account gets no token');
    const enabled = await post(`${accountPath(clientId)}/enable`);
    assert.equal(enabled.headers.get('location'), `${accountPath(clientId)}?notice=service-account-enabled`);
    assert.ok((await token(clientId, key)).access_token);
    const changes = await server.runtime.audit.list({ clientId, type: 'service_account.updated' });
    assert.deepEqual(changes.map((e) => [e.actor, JSON.stringify(e.detail)]).slice(0, 2), [
      [`person:${admin.id}`, JSON.stringify({ disabled: { from: true, to: false } })],
      [`person:${admin.id}`, JSON.stringify({ disabled: { from: false, to: true } })],
    ]);
  });
});
