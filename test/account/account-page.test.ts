// The signed-in person's own page, over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountCsrf, enrollFromAccount, signInToAccount } from '../helpers/account.ts';
import { Browser, csrfToken, pageText, type Page } from '../helpers/browser.ts';
import { adminCli } from '../helpers/cli.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { totp } from '../helpers/totp.ts';

describe('account page', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    server = await startTestServer();
    client = await registerClient(server, { name: 'Photo Album' });
  });
  after(() => server.stop());

  const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);

  it('without a session, /account sends the browser to sign in (no page content leaks)', async () => {
    const res = await fetch(`${server.url}/account`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    const to = new URL(res.headers.get('location')!);
    assert.equal(to.pathname, '/auth');
    assert.equal(to.searchParams.get('client_id'), 'latchkey-account');
    const post = await fetch(`${server.url}/account/sign-out-everywhere`, { method: 'POST', redirect: 'manual' });
    assert.equal(post.status, 303);
  });

  it('shows profile and authorized apps; revoking one kills its tokens and asks for consent again', async () => {
    const person = await createUser(server, undefined, undefined, 'Margaret Hamilton');
    const browser = new Browser(server.url);
    const { tokens } = await codeFlow(client, browser, person, { scope: 'openid email offline_access', prompt: 'consent' });
    // Already signed in by the app's flow: the account page opens directly.
    const overview = (await browser.navigate(`${server.url}/account`)) as Page;
    assert.match(pageText(overview.html), /Margaret Hamilton/);
    assert.match(pageText(overview.html), /1 app has access/, 'the account page itself is not counted');
    const page = (await browser.navigate(`${server.url}/account/apps`)) as Page;
    const text = pageText(page.html);
    assert.match(text, /Photo Album/);
    assert.doesNotMatch(text, /your Latchkey account/, 'the account page itself is not listed');
    const action = page.html.match(/action="(\/account\/apps\/[^"]+\/revoke)"/)![1]!;
    const after = (await browser.navigate(`${server.url}${action}`, { form: { csrf: csrfToken(page.html) } })) as Page;
    assert.match(pageText(after.html), /Access was withdrawn/);
    assert.doesNotMatch(pageText(after.html), /Photo Album/);
    assert.equal((await oidc.tokenIntrospection(client.config, tokens.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(client.config, tokens.refresh_token!));
    const again = (await browser.navigate((await authRequest(client)).url.href)) as Page;
    assert.match(again.html, /\/confirm"/, 'consent is asked again');
    const types = (await server.runtime.audit.list({ userId: person.id })).map((e) => e.type);
    assert.ok(types.includes('consent_granted') && types.includes('consent_revoked'));
  });

  it("another person's grant cannot be revoked", async () => {
    const owner = await createUser(server);
    await codeFlow(client, new Browser(server.url), owner);
    const [grant] = await server.runtime.db.oidcPayload.findMany({ where: { type: 'Grant', accountId: owner.id } });
    const intruder = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, intruder.email, intruder.password);
    const csrf = await accountCsrf(browser, server);
    const res = (await browser.navigate(`${server.url}/account/apps/${grant!.id}/revoke`, { form: { csrf } })) as Page;
    assert.equal(res.status, 404);
    assert.equal(await server.runtime.db.oidcPayload.count({ where: { type: 'Grant', id: grant!.id } }), 1);
  });

  it('changing the password needs the current one', async () => {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const page = (await browser.navigate(`${server.url}/account/password`)) as Page;
    // Three password fields, three distinct labels.
    for (const label of ['Your current password', 'New password', 'New password again'])
      assert.match(page.html, new RegExp(`<label for="[^"]+">${label}</label>`));
    const change = (form: Record<string, string>) =>
      browser.navigate(`${server.url}/account/password`, { form: { csrf: csrfToken(page.html), ...form } }) as Promise<Page>;
    const wrong = await change({ current: 'nope-nope', password: 'brand new secret', confirm: 'brand new secret' });
    assert.equal(wrong.status, 400);
    assert.match(pageText(wrong.html), /Your current password is not correct/);
    const mismatch = await change({ current: person.password, password: 'brand new secret', confirm: 'other' });
    assert.match(pageText(mismatch.html), /do not match/);
    const ok = await change({ current: person.password, password: 'brand new secret', confirm: 'brand new secret' });
    assert.match(pageText(ok.html), /Your password was changed/);
    assert.equal((await server.runtime.signIn.password(person.email, 'brand new secret', {})).kind, 'ok');
    const noCsrf = (await browser.navigate(`${server.url}/account/password`, {
      form: { current: 'brand new secret', password: 'third password', confirm: 'third password' },
    })) as Page;
    assert.equal(noCsrf.status, 403);
    assert.ok((await server.runtime.audit.list({ userId: person.id })).some((e) => e.type === 'password_changed'));
  });

  it('sign out everywhere ends the sessions of every browser', async () => {
    const person = await createUser(server);
    const one = new Browser(server.url);
    const two = new Browser(server.url);
    await signInToAccount(one, server, person.email, person.password);
    await signInToAccount(two, server, person.email, person.password);
    const sessions = (await one.navigate(`${server.url}/account/sessions`)) as Page;
    assert.match(pageText(sessions.html), /This browser/);
    const out = (await one.navigate(`${server.url}/account/sign-out-everywhere`, { form: { csrf: csrfToken(sessions.html) } })) as Page;
    assert.match(pageText(out.html), /signed out on every device/);
    for (const b of [one, two]) {
      const res = (await b.navigate(`${server.url}/account`)) as Page;
      assert.match(res.html, /name="password"/, 'signed out');
    }
  });

  it('sessions list each browser with its address and last use; one can be ended, but not by another person', async () => {
    const person = await createUser(server);
    const here = new Browser(server.url);
    const there = new Browser(server.url);
    await signInToAccount(here, server, person.email, person.password);
    await signInToAccount(there, server, person.email, person.password);
    const list = (await here.navigate(`${server.url}/account/sessions`)) as Page;
    const text = pageText(list.html);
    assert.match(text, /This browser/);
    assert.equal(text.match(/From (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)/g)?.length, 2, 'both sessions, with their address');
    assert.equal(text.match(/Last used/g)?.length, 2);
    const ends = [...list.html.matchAll(/action="(\/account\/sessions\/[^"]+\/end)"/g)].map((m) => m[1]!);
    assert.equal(ends.length, 1, 'the other browser can be ended (this one signs out instead)');

    const intruder = await createUser(server);
    const stranger = new Browser(server.url);
    await signInToAccount(stranger, server, intruder.email, intruder.password);
    const refused = (await stranger.navigate(`${server.url}${ends[0]}`, { form: { csrf: await accountCsrf(stranger, server) } })) as Page;
    assert.equal(refused.status, 404);
    assert.equal(new URL(((await there.navigate(`${server.url}/account`)) as Page).url).pathname, '/account', 'still signed in there');

    const ended = (await here.navigate(`${server.url}${ends[0]}`, { form: { csrf: csrfToken(list.html) } })) as Page;
    assert.match(pageText(ended.html), /The session was ended/);
    assert.match(((await there.navigate(`${server.url}/account`)) as Page).html, /name="password"/, 'signed out there');
    assert.equal(new URL(((await here.navigate(`${server.url}/account`)) as Page).url).pathname, '/account', 'still signed in here');
  });

  it('turning TOTP off needs the password and a current code', async () => {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const { secret } = await enrollFromAccount(browser, server, person.password);
    const page = (await browser.navigate(`${server.url}/account/sign-in-methods`)) as Page;
    assert.match(pageText(page.html), /On: every sign-in asks for a code/);
    assert.match(pageText(page.html), /You have 10 unused recovery codes/);
    const csrf = await accountCsrf(browser, server);
    const remove = (form: Record<string, string>) => browser.navigate(`${server.url}/account/totp/remove`, { form: { csrf, ...form } }) as Promise<Page>;
    const wrong = await remove({ password: 'not it', code: totp(secret, 1) });
    assert.equal(wrong.status, 400);
    assert.match(pageText(wrong.html), /Your password is not correct\./);
    const noCode = await remove({ password: person.password });
    assert.equal(noCode.status, 400);
    assert.match(pageText(noCode.html), /That code is not correct, or was already used\./);
    assert.equal(await server.runtime.users.hasSecondFactor(person.id), true);
    const off = await remove({ password: person.password, code: totp(secret, 1) });
    assert.match(pageText(off.html), /Two-step verification is off/);
    assert.equal(await server.runtime.users.hasSecondFactor(person.id), false);
    const types = (await server.runtime.audit.list({ userId: person.id })).map((e) => e.type);
    assert.ok(types.includes('mfa_enrolled') && types.includes('mfa_removed'));
  });

  it('admin audit list reads the trail, filtered by user', async () => {
    const person = await createUser(server);
    await server.runtime.signIn.password(person.email, 'wrong-password', { ip: '203.0.113.9', userAgent: 'test-agent' });
    const r = await admin('audit', 'list', '--user', person.id, '--since', new Date(Date.now() - 60_000).toISOString(), '--json');
    assert.equal(r.code, 0, r.stderr);
    const { events } = JSON.parse(r.stdout);
    assert.equal(events.length, 1);
    assert.equal(events[0].type, 'login_failed');
    assert.equal(events[0].ip, '203.0.113.9');
    assert.equal(events[0].user_agent, 'test-agent');
    assert.deepEqual(events[0].detail, { reason: 'bad_password' });
    const bad = await admin('audit', 'list', '--since', 'yesterday', '--json');
    assert.equal(bad.code, 2);
  });

  it('admin user reset-mfa removes the second factor', async () => {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    await enrollFromAccount(browser, server, person.password);
    const r = await admin('user', 'reset-mfa', person.id, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await server.runtime.users.hasSecondFactor(person.id), false);
    assert.equal(await server.runtime.db.recoveryCode.count({ where: { userId: person.id } }), 0);
  });
});
