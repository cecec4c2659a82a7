// The console's People pages, as an administrator uses them over HTTP: find a
// person (address, name, id), open them, give and take roles, end their
// sessions, revoke a key (introspection answers inactive), disable them (their
// sessions end) and enable them; each change in the audit trail with the
// administrator as actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signInToAccount } from '../helpers/account.ts';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';
import { Browser, csrfToken, pageText } from '../helpers/browser.ts';
import { createUser, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor, type Admin } from './console-helpers.ts';

const BILLING = 'https://billing.example.test';

describe('the admin console: people', () => {
  let server: TestServer;
  let admin: Admin;
  let browser: Browser;
  let csrf: string;
  let rs: { id: string; secret: string };

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read' });
    rs = await resourceServerClient(server, [BILLING]);
    admin = await personWithFactor(server, ['latchkey-admin']);
    ({ browser, csrf } = await consoleAs(server, admin));
  });
  after(async () => {
    await server?.stop();
  });

  const post = (path: string, form: Record<string, string> = {}) => browser.request(`${server.url}${path}`, { form: { csrf, ...form } });
  /** The console's changes to `person`, as the audit trail has them: type and actor. */
  const auditOf = async (person: { id: string }, type: string) =>
    (await server.runtime.audit.list({ userId: person.id, type })).map((e) => ({ actor: e.actor, detail: e.detail }));

  it('finds people by part of their address, by name and by id, a page at a time', async () => {
    const grace = await createUser(server, `grace-${Date.now()}@navy.example.test`, 'compilers are for people', 'Grace Hopper');
    /** The people a result page lists (not the administrator's own address in its header). */
    const found = async (q: string) =>
      [...(await browser.page(`${server.url}/admin/people?q=${encodeURIComponent(q)}`)).html.matchAll(/href="\/admin\/people\/[^"]+"><strong>([^<]+)</g)].map(
        (m) => m[1],
      );
    assert.deepEqual(await found('NAVY.example'), [grace.email], 'part of the address, in any case');
    assert.deepEqual(await found('Hopper'), [grace.email], 'part of the name');
    assert.deepEqual(await found(grace.id), [grace.email], 'the id');
    const nobody = await browser.page(`${server.url}/admin/people?q=no-such-person-anywhere`);
    assert.match(pageText(nobody.html), /Nobody matches\./);

    // More people than one page: the admin API's cursor, and a link to the next page.
    for (let i = 0; i < 26; i++) await createUser(server, `paged-${i}-${Date.now()}@many.example.test`);
    const first = await browser.page(`${server.url}/admin/people?q=many.example`);
    const next = first.html.match(/href="(\/admin\/people\?q=many.example&amp;cursor=[^"]+)"/);
    assert.ok(next, 'a link to the next page');
    const second = await browser.page(`${server.url}${next[1]!.replace(/&amp;/g, '&')}`);
    const listed = (html: string) => [...html.matchAll(/paged-\d+-\d+@many\.example\.test/g)].map((m) => m[0]);
    assert.equal(listed(first.html).length, 25);
    assert.equal(listed(second.html).length, 1);
    assert.equal(new Set([...listed(first.html), ...listed(second.html)]).size, 26, 'nobody twice, nobody missed');
    const forged = await browser.page(`${server.url}/admin/people?cursor=not-a-cursor`);
    assert.equal(forged.status, 200);
    assert.match(pageText(forged.html), /not one this server handed out/);
  });

  it('gives and takes roles, audited with the administrator as actor; a bad role name is explained beside the field', async () => {
    const ada = await createUser(server);
    const given = await post(`/admin/people/${ada.id}/roles`, { role: 'billing-admin' });
    assert.equal(given.status, 303);
    assert.equal(given.headers.get('location'), `/admin/people/${ada.id}?notice=role-added`);
    assert.deepEqual(await server.runtime.users.roles(ada.id), ['billing-admin']);
    const page = await browser.page(`${server.url}/admin/people/${ada.id}`);
    assert.match(pageText(page.html), /billing-admin/);
    const bad = await post(`/admin/people/${ada.id}/roles`, { role: 'no spaces <allowed>' });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /id="role"[^>]*aria-invalid="true"/);
    assert.match(pageText(badHtml), /A role is 1 to 64 letters/);
    const removed = await post(`/admin/people/${ada.id}/roles/billing-admin/remove`);
    assert.equal(removed.headers.get('location'), `/admin/people/${ada.id}?notice=role-removed`);
    assert.deepEqual(await server.runtime.users.roles(ada.id), []);
    assert.deepEqual(await auditOf(ada, 'role_added'), [{ actor: `person:${admin.id}`, detail: { role: 'billing-admin' } }]);
    assert.deepEqual(await auditOf(ada, 'role_removed'), [{ actor: `person:${admin.id}`, detail: { role: 'billing-admin' } }]);
    const own = await post(`/admin/people/${admin.id}/roles/latchkey-admin/remove`);
    assert.equal(own.status, 409, 'an administrator cannot lock themself out');
    await own.arrayBuffer();
    assert.deepEqual(await server.runtime.users.roles(admin.id), ['latchkey-admin']);
  });

  /** A person signed in to their account page in a browser of their own. */
  async function signedIn(person: TestPerson): Promise<Browser> {
    const theirs = new Browser(server.url);
    await signInToAccount(theirs, server, person.email, person.password);
    return theirs;
  }
  const stillSignedIn = async (theirs: Browser) => (await theirs.request(`${server.url}/account`)).status === 200;

  it('ends one session, then every session, after a page naming what ends', async () => {
    const ada = await createUser(server);
    const [laptop, phone, tablet] = [await signedIn(ada), await signedIn(ada), await signedIn(ada)];
    const page = await browser.page(`${server.url}/admin/people/${ada.id}`);
    const ends = [...page.html.matchAll(/action="(\/admin\/people\/[^"]+\/sessions\/[^"/]+\/end)"/g)].map((m) => m[1]!);
    assert.equal(ends.length, 3, 'each session can be ended');
    const one = await post(ends[0]!);
    assert.equal(one.headers.get('location'), `/admin/people/${ada.id}?notice=session-ended`);
    const alive = await Promise.all([laptop, phone, tablet].map(stillSignedIn));
    assert.equal(alive.filter(Boolean).length, 2, 'one browser is signed out');

    const confirm = await browser.page(`${server.url}/admin/people/${ada.id}/sessions/end`);
    assert.match(pageText(confirm.html), new RegExp(`End every session of ${ada.email.replace(/[.]/g, '\\.')}\\?`));
    assert.match(pageText(confirm.html), /Their 2 sessions end/);
    const all = await post(`/admin/people/${ada.id}/sessions/end`, { csrf: csrfToken(confirm.html) });
    assert.equal(all.headers.get('location'), `/admin/people/${ada.id}?notice=sessions-ended`);
    assert.deepEqual(await Promise.all([laptop, phone, tablet].map(stillSignedIn)), [false, false, false]);
    const rows = await auditOf(ada, 'user.sessions_ended');
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.actor === `person:${admin.id}`));
  });

  it('revokes a key after a page naming it: introspection answers inactive at once', async () => {
    const ada = await createUser(server);
    const { key, record } = await server.runtime.apiKeys.create({ owner: { userId: ada.id }, name: 'deploy bot', scope: 'invoices.read' });
    assert.equal((await introspect(server, rs, { token: key })).body.active, true);
    const page = await browser.page(`${server.url}/admin/people/${ada.id}`);
    assert.match(page.html, new RegExp(`href="/admin/api-keys/${record.id}/revoke"`));
    const confirm = await browser.page(`${server.url}/admin/api-keys/${record.id}/revoke`);
    assert.match(pageText(confirm.html), /Revoke the API key “deploy bot”\?/);
    assert.match(pageText(confirm.html), new RegExp(record.display.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const revoked = await post(`/admin/api-keys/${record.id}/revoke`, { back: `/admin/people/${ada.id}` });
    assert.equal(revoked.headers.get('location'), `/admin/people/${ada.id}?notice=key-revoked`);
    assert.deepEqual((await introspect(server, rs, { token: key })).body, { active: false });
    const [row] = await server.runtime.audit.list({ type: 'api_key_revoked', userId: ada.id });
    assert.equal(row?.actor, `person:${admin.id}`);
    // A `back` elsewhere than the console is not followed.
    const other = await server.runtime.apiKeys.create({ owner: { userId: ada.id }, name: 'other', scope: 'invoices.read' });
    const away = await post(`/admin/api-keys/${other.record.id}/revoke`, { back: 'https://evil.example.test/' });
    assert.equal(away.headers.get('location'), `/admin/people/${ada.id}?notice=key-revoked`);
  });

  it('disables a person after a page naming what ends: their sessions end and keys stop; enabling lets them sign in again', async () => {
    const ada = await createUser(server);
    const theirs = await signedIn(ada);
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: ada.id }, name: 'ci', scope: 'invoices.read' });
    const confirm = await browser.page(`${server.url}/admin/people/${ada.id}/disable`);
    const text = pageText(confirm.html);
    assert.match(text, new RegExp(`Disable ${ada.email.replace(/[.]/g, '\\.')}\\?`));
    assert.match(text, /Their 1 session ends/);
    assert.match(text, /Every API key of theirs is revoked/);
    const done = await post(`/admin/people/${ada.id}/disable`, { csrf: csrfToken(confirm.html) });
    assert.equal(done.headers.get('location'), `/admin/people/${ada.id}?notice=disabled`);
    assert.equal(await stillSignedIn(theirs), false, 'their browser is signed out');
    assert.deepEqual((await introspect(server, rs, { token: key })).body, { active: false });
    const shown = await browser.page(`${server.url}/admin/people/${ada.id}?notice=disabled`);
    assert.match(pageText(shown.html), /The account is disabled/);
    assert.match(shown.html, /action="\/admin\/people\/[^"]+\/enable"/);

    const enabled = await post(`/admin/people/${ada.id}/enable`);
    assert.equal(enabled.headers.get('location'), `/admin/people/${ada.id}?notice=enabled`);
    assert.equal((await server.runtime.users.get(ada.id)).disabled, false);
    assert.ok(await stillSignedIn(await signedIn(ada)), 'they sign in again');
    assert.deepEqual(
      (await auditOf(ada, 'user.updated')).map((r) => r.actor),
      [`person:${admin.id}`, `person:${admin.id}`],
    );
  });

  it('an administrator cannot disable themself: the page and the form answer 409 with the reason, and they stay enabled and signed in', async () => {
    const page = await browser.request(`${server.url}/admin/people/${admin.id}/disable`);
    assert.equal(page.status, 409);
    assert.match(pageText(await page.text()), /You cannot disable your own account/);
    const forced = await post(`/admin/people/${admin.id}/disable`);
    assert.equal(forced.status, 409, 'a forged form is refused too');
    await forced.arrayBuffer();
    assert.equal((await server.runtime.users.get(admin.id)).disabled, false);
    assert.equal((await browser.request(`${server.url}/admin/people`)).status, 200, 'still signed in to the console');
    assert.deepEqual(await auditOf(admin, 'user.updated'), []);
  });
});
