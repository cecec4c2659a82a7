// The console's People pages that make and mend accounts, over HTTP: create a
// person (no password: a one-time link with which they choose one), invite
// someone, hand a person a link to set a new password (the administrator never
// types nor sees it), reset their second factor (authenticator app, recovery
// codes and passkeys), and revoke an app they allowed; each audited with the
// administrator as actor, the destructive ones after a page naming what is lost.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Browser, csrfToken, pageText, type Page } from '../helpers/browser.ts';
import { codeFlow, createUser, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor, type Admin } from './console-helpers.ts';

const PASSWORD = 'a passphrase they chose themselves';

describe('the admin console: making and mending accounts', () => {
  let server: TestServer;
  let admin: Admin;
  let browser: Browser;
  let csrf: string;

  before(async () => {
    server = await startTestServer({ REGISTRATION: 'invite' });
    admin = await personWithFactor(server, ['latchkey-admin']);
    ({ browser, csrf } = await consoleAs(server, admin));
  });
  after(async () => {
    await server?.stop();
  });

  const post = (path: string, form: Record<string, string> = {}) => browser.request(`${server.url}${path}`, { form: { csrf, ...form } });
  const linkOf = (html: string) => html.match(/<code id="person-link">([^<]+)<\/code>/)?.[1]?.replace(/&amp;/g, '&');
  const signsIn = async (email: string, password: string) => (await server.runtime.signIn.password(email, password, {})).kind === 'ok';
  const auditOf = async (userId: string, type: string) =>
    (await server.runtime.audit.list({ userId, type })).map((e) => ({ actor: e.actor, detail: e.detail }));

  /** Opens a link's page (reset or invitation) in the person's own browser and chooses `password` there. */
  async function choosePassword(link: string, path: '/reset-password' | '/invitation', password = PASSWORD): Promise<Page> {
    const theirs = new Browser(server.url);
    const form = await theirs.page(link);
    assert.equal(form.status, 200, form.html.slice(0, 300));
    const token = form.html.match(/name="token" value="([^"]+)"/)![1]!;
    return theirs.page(`${server.url}${path}`, { form: { csrf: csrfToken(form.html), token, password, confirm: password, name: 'Grace Hopper' } });
  }

  it('creates a person without a password and shows once the link with which they choose one; a bad address is explained beside the field', async () => {
    const email = `new-${randomUUID()}@example.test`;
    const form = await browser.page(`${server.url}/admin/people/new`);
    assert.equal(form.status, 200);
    assert.doesNotMatch(form.html, /type="password"/, 'the administrator is never asked for a password');
    const created = await post('/admin/people', { email, name: 'Grace Hopper' });
    assert.equal(created.status, 200);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const html = await created.text();
    const link = linkOf(html);
    assert.ok(link?.startsWith(`${server.issuer}/reset-password?token=`), html.slice(0, 500));
    assert.match(pageText(html), /shown now only, and works once/);
    const person = (await server.runtime.users.findByEmail(email))!;
    assert.equal(person.name, 'Grace Hopper');
    assert.equal(await signsIn(email, ''), false);
    assert.equal(await signsIn(email, PASSWORD), false, 'no password works before they choose one');
    // The page is not shown again: the person's page offers a new link, never this one.
    assert.doesNotMatch((await browser.page(`${server.url}/admin/people/${person.id}`)).html, new RegExp(link!.split('token=')[1]!));

    const done = await choosePassword(link!, '/reset-password');
    assert.equal(done.status, 200, done.html.slice(0, 300));
    assert.equal(await signsIn(email, PASSWORD), true);
    const reused = await new Browser(server.url).page(link!);
    assert.equal(reused.status, 400, 'the link works once');
    assert.match(pageText(reused.html), /This link cannot be used/);
    assert.equal(await signsIn(email, PASSWORD), true);
    assert.deepEqual(await auditOf(person.id, 'user.created'), [
      { actor: `person:${admin.id}`, detail: { email, name: 'Grace Hopper', email_verified: false, password: 'none' } },
    ]);
    assert.equal((await auditOf(person.id, 'user.password_link_created'))[0]?.actor, `person:${admin.id}`);

    const bad = await post('/admin/people', { email: 'not an address', name: '' });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /id="create-email"[^>]*aria-invalid="true"/);
    assert.match(pageText(badHtml), /is not an email address/);
    const taken = await post('/admin/people', { email: admin.email });
    assert.equal(taken.status, 409);
    assert.match(pageText(await taken.text()), /already exists/);
  });

  it('invites someone: the link is shown once, and creates the account only when they choose a password', async () => {
    const email = `invited-${randomUUID()}@example.test`;
    const invited = await post('/admin/people/invite', { email, name: 'Grace Hopper' });
    assert.equal(invited.status, 200);
    const link = linkOf(await invited.text());
    assert.ok(link?.startsWith(`${server.issuer}/invitation?token=`));
    assert.equal(await server.runtime.users.findByEmail(email), undefined, 'no account before the link is used');
    await choosePassword(link!, '/invitation');
    assert.equal(await signsIn(email, PASSWORD), true);
    const [row] = await server.runtime.audit.list({ type: 'invitation_created', limit: 1 });
    assert.equal(row?.actor, `person:${admin.id}`);
    const again = await post('/admin/people/invite', { email });
    assert.equal(again.status, 409, 'someone with an account is not invited');
    await again.arrayBuffer();
  });

  it('hands a person a link to set a new password: the old one works until it is used, then only theirs; it ends their sessions', async () => {
    const ada = await createUser(server);
    const made = await post(`/admin/people/${ada.id}/password`);
    assert.equal(made.status, 200);
    const link = linkOf(await made.text());
    assert.ok(link?.includes('/reset-password?token='));
    assert.equal(await signsIn(ada.email, ada.password), true, 'nothing changes until they use it');
    await choosePassword(link!, '/reset-password');
    assert.equal(await signsIn(ada.email, ada.password), false);
    assert.equal(await signsIn(ada.email, PASSWORD), true);
    assert.equal((await auditOf(ada.id, 'user.password_link_created'))[0]?.actor, `person:${admin.id}`);
    // A disabled person gets no link (it would let them in once enabled by someone else's mistake).
    await server.runtime.users.update(ada.id, { disabled: true });
    const refused = await post(`/admin/people/${ada.id}/password`);
    assert.equal(refused.status, 409);
    assert.match(pageText(await refused.text()), /enable it before/);
  });

  it('resets a second factor after a page naming what is lost: the authenticator app, recovery codes and passkeys go; audited', async () => {
    const grace = await personWithFactor(server);
    await server.runtime.db.passkey.create({
      data: { id: `pk-${randomUUID()}`, userId: grace.id, name: 'YubiKey', publicKey: 'AAAA', deviceType: 'singleDevice' },
    });
    const confirm = await browser.page(`${server.url}/admin/people/${grace.id}/second-factor/reset`);
    const text = pageText(confirm.html);
    assert.match(text, new RegExp(`Reset the second factor of ${grace.email.replace(/[.]/g, '\\.')}\\?`));
    assert.match(text, /authenticator app and recovery codes are removed/);
    assert.match(text, /Every passkey of theirs is removed/);
    const reset = await post(`/admin/people/${grace.id}/second-factor/reset`, { csrf: csrfToken(confirm.html) });
    assert.equal(reset.status, 303);
    assert.equal(reset.headers.get('location'), `/admin/people/${grace.id}?notice=factor-reset`);
    const row = await server.runtime.db.user.findUnique({ where: { id: grace.id }, select: { totpEnabledAt: true, totpSecretEnc: true } });
    assert.deepEqual(row, { totpEnabledAt: null, totpSecretEnc: null });
    assert.deepEqual(await server.runtime.passkeys.list(grace.id), []);
    assert.deepEqual(await auditOf(grace.id, 'user.mfa_reset'), [{ actor: `person:${admin.id}`, detail: { totp: 'removed', passkeys_removed: 1 } }]);
    assert.equal((await server.runtime.signIn.password(grace.email, grace.password, {})).kind, 'ok', 'the password alone signs them in now');
  });

  it("lists the apps a person allowed and revokes one after a page naming it; another person's authorization is not reachable through their page", async () => {
    const shop: TestClient = await registerClient(server, { name: 'Shop', redirectUri: 'https://shop.example.test/cb' });
    const ada = await createUser(server);
    const bob = await createUser(server);
    const { tokens } = await codeFlow(shop, new Browser(server.url), ada);
    await codeFlow(shop, new Browser(server.url), bob);
    const [adaGrant] = await server.runtime.admin.users.listApps(ada.id);
    const [bobGrant] = await server.runtime.admin.users.listApps(bob.id);
    const page = await browser.page(`${server.url}/admin/people/${ada.id}`);
    assert.match(pageText(page.html), /Apps allowed Shop/);
    assert.match(page.html, new RegExp(`href="/admin/people/${ada.id}/apps/${adaGrant!.grantId}/revoke"`));

    // Bob's grant through Ada's page: not found, and Bob keeps it.
    const wrongConfirm = await browser.request(`${server.url}/admin/people/${ada.id}/apps/${bobGrant!.grantId}/revoke`);
    assert.equal(wrongConfirm.status, 404);
    await wrongConfirm.arrayBuffer();
    const wrong = await post(`/admin/people/${ada.id}/apps/${bobGrant!.grantId}/revoke`);
    assert.equal(wrong.status, 404);
    await wrong.arrayBuffer();
    assert.equal((await server.runtime.admin.users.listApps(bob.id)).length, 1);

    const confirm = await browser.page(`${server.url}/admin/people/${ada.id}/apps/${adaGrant!.grantId}/revoke`);
    assert.match(pageText(confirm.html), new RegExp(`Revoke the permission ${ada.email.replace(/[.]/g, '\\.')} gave Shop\\?`));
    const revoked = await post(`/admin/people/${ada.id}/apps/${adaGrant!.grantId}/revoke`);
    assert.equal(revoked.headers.get('location'), `/admin/people/${ada.id}?notice=app-revoked`);
    assert.deepEqual(await server.runtime.admin.users.listApps(ada.id), []);
    const userinfo = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(userinfo.status, 401, 'its access token stops working');
    const [row] = await server.runtime.audit.list({ userId: ada.id, type: 'user.app_revoked' });
    assert.equal(row?.actor, `person:${admin.id}`);
  });
});
