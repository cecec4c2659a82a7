// Confirming an address: `email_verified` in tokens follows the link, and
// REQUIRE_VERIFIED_EMAIL holds a sign-in until the address is confirmed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { linkIn, startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, codeFlow, oidc, registerClient, submitConsent, submitLogin, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

async function unverifiedPerson(server: TestServer) {
  const email = `unconfirmed-${Math.random().toString(36).slice(2)}@example.test`;
  const password = 'lanterns over the harbour';
  const user = await server.runtime.users.create({ email, password, name: 'Ida Noddack', emailVerified: false });
  return { ...user, password };
}

async function confirm(server: TestServer, link: string) {
  const browser = new Browser(server.url);
  const page = (await browser.navigate(link)) as Page;
  assert.equal(page.status, 200, page.html.slice(0, 300));
  const token = page.html.match(/name="token" value="([^"]+)"/)![1]!;
  return (await browser.navigate(`${server.url}/verify-email`, { form: { csrf: csrfToken(page.html), token } })) as Page;
}

describe('REQUIRE_VERIFIED_EMAIL=true', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let client: TestClient;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ SMTP_URL: mail.url, REQUIRE_VERIFIED_EMAIL: 'true' });
    client = await registerClient(server, { name: 'Archive' });
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  it('a sign-in with an unconfirmed address waits for the mailed link, then completes with email_verified true', async () => {
    const person = await unverifiedPerson(server);
    const browser = new Browser(server.url);
    const req = await authRequest(client);
    const login = (await browser.navigate(req.url.href)) as Page;
    const held = (await submitLogin(browser, login, person.email, person.password)) as Page;
    assert.ok(!('redirect' in held), 'no code for the app yet');
    assert.match(pageText(held.html), /Confirm your email address/);
    assert.match(pageText(held.html), new RegExp(person.email.replace('.', '\\.')));
    const [first] = await mail.waitFor(person.email);
    assert.match(first!.subject, /Confirm your email address/);

    // Pressing "continue" before confirming changes nothing.
    const early = (await browser.navigate(new URL(held.html.match(/class="button" href="([^"]+)"/)![1]!, held.url).href)) as Page;
    assert.match(pageText(early.html), /Confirm your email address/);
    // Another link on request.
    const again = (await browser.navigate(new URL(formAction(held.html, '/verify/resend'), held.url).href, { form: { csrf: csrfToken(held.html) } })) as Page;
    assert.match(pageText(again.html), /We sent another link/);
    const messages = await mail.waitFor(person.email, 2);

    // Confirmed on the phone (another browser), with the first link.
    const done = await confirm(server, linkIn(messages[0]!, '/verify-email?token='));
    assert.match(pageText(done.html), /Your email address is confirmed/);
    // Back on the computer: continue.
    let step = await browser.navigate(new URL(held.html.match(/class="button" href="([^"]+)"/)![1]!, held.url).href);
    if (!('redirect' in step)) step = await submitConsent(browser, step as Page);
    assert.ok('redirect' in step);
    const tokens = await oidc.authorizationCodeGrant(client.config, new URL(step.redirect), {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    assert.equal(tokens.claims()!.email_verified, true);
    assert.deepEqual(tokens.claims()!.amr, ['pwd']);
  });

  it('a held sign-in cannot be finished with a code post or by a disabled person', async () => {
    const person = await unverifiedPerson(server);
    const browser = new Browser(server.url);
    const login = (await browser.navigate((await authRequest(client)).url.href)) as Page;
    const held = (await submitLogin(browser, login, person.email, person.password)) as Page;
    const uid = held.url.match(/\/interaction\/([^/?]+)/)![1]!;
    const code = (await browser.navigate(`${server.url}/interaction/${uid}/code`, { form: { csrf: csrfToken(held.html), code: '123456' } })) as Page;
    assert.equal(code.status, 400);
    await server.runtime.users.setDisabled(person.id, true);
    await server.runtime.db.user.update({ where: { id: person.id }, data: { emailVerified: true } });
    const after = await browser.navigate(`${server.url}/interaction/${uid}`);
    assert.ok(!('redirect' in after) || !new URL(after.redirect).searchParams.get('code'), 'no code for a disabled person');
  });
});

describe('email_verified follows the link (verification not required)', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let client: TestClient;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ SMTP_URL: mail.url });
    client = await registerClient(server);
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  it('an unconfirmed person signs in with email_verified false, confirms from the account page, and the next token says true', async () => {
    const person = await unverifiedPerson(server);
    const browser = new Browser(server.url);
    const before = await codeFlow(client, browser, person);
    assert.equal(before.tokens.claims()!.email_verified, false);

    const account = (await browser.navigate(`${server.url}/account`)) as Page;
    assert.match(pageText(account.html), /Not confirmed/);
    const profile = (await browser.navigate(`${server.url}/account/profile`)) as Page;
    const sent = (await browser.navigate(`${server.url}/account/verify-email`, { form: { csrf: csrfToken(profile.html) } })) as Page;
    assert.match(pageText(sent.html), /We sent a link to your address/);
    await confirm(server, linkIn((await mail.waitFor(person.email))[0]!, '/verify-email?token='));

    const afterwards = await codeFlow(client, browser, person);
    assert.equal(afterwards.tokens.claims()!.email_verified, true);
    const userinfo = await oidc.fetchUserInfo(client.config, afterwards.tokens.access_token, person.id);
    assert.equal(userinfo.email_verified, true);
  });

  it("a confirmation link does not confirm an address that changed since, nor a disabled person's", async () => {
    const person = await unverifiedPerson(server);
    await server.runtime.accountLinks.sendVerification(person.id, {});
    const link = linkIn((await mail.waitFor(person.email))[0]!, '/verify-email?token=');
    await server.runtime.users.setDisabled(person.id, true);
    const page = (await new Browser(server.url).navigate(link)) as Page;
    const token = page.html.match(/name="token" value="([^"]+)"/)![1]!;
    const refused = (await new Browser(server.url).navigate(`${server.url}/verify-email`, { form: { csrf: 'x', token } })) as Page;
    assert.equal(refused.status, 403, 'csrf first');
    const b = new Browser(server.url);
    const p = (await b.navigate(link)) as Page;
    const used = (await b.navigate(`${server.url}/verify-email`, { form: { csrf: csrfToken(p.html), token } })) as Page;
    assert.equal(used.status, 400);
    assert.equal((await server.runtime.users.get(person.id)).emailVerified, false);
  });
});
