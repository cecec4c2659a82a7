// "Forgot your password?": a mailed single-use link, short-lived; the same
// answer whether or not the address has an account; a reset ends every
// session and revokes refresh tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { linkIn, startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const NEW_PASSWORD = 'seven bridges of koenigsberg';

describe('password reset', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let client: TestClient;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ SMTP_URL: mail.url, LOCKOUT_THRESHOLD: '3', PASSWORD_RESET_TTL: '600' });
    client = await registerClient(server, { name: 'Ledger' });
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  /** From the app's sign-in page: "Forgot your password?", then the form. */
  async function askForReset(email: string, browser = new Browser(server.url)) {
    const login = (await browser.navigate((await authRequest(client)).url.href)) as Page;
    const href = login.html.match(/href="([^"]*\/forgot)"/);
    assert.ok(href, 'the sign-in page offers a reset');
    const form = (await browser.navigate(new URL(href[1]!, login.url).href)) as Page;
    return (await browser.navigate(new URL(formAction(form.html, '/forgot'), form.url).href, { form: { csrf: csrfToken(form.html), email } })) as Page;
  }

  async function resetLink(email: string, nth = 1) {
    return linkIn((await mail.waitFor(email, nth))[nth - 1]!, '/reset-password?token=');
  }

  async function choose(link: string, password: string, confirm = password, browser = new Browser(server.url)) {
    const page = (await browser.navigate(link)) as Page;
    if (page.status !== 200) return page;
    const token = page.html.match(/name="token" value="([^"]+)"/)![1]!;
    return (await browser.navigate(`${server.url}/reset-password`, { form: { csrf: csrfToken(page.html), token, password, confirm } })) as Page;
  }

  it('the same answer whether or not the address has an account, and a message either way', async () => {
    const person = await createUser(server);
    const nobody = `nobody-${Date.now()}@example.test`;
    const known = await askForReset(person.email);
    const unknown = await askForReset(nobody);
    assert.equal(known.status, 200);
    assert.equal(unknown.status, known.status);
    const text = (p: Page, email: string) =>
      pageText(p.html)
        .replace(email, 'EMAIL')
        .replace(/\/interaction\/[^/"]+/g, '');
    assert.equal(text(known, person.email), text(unknown, nobody));
    const [toPerson] = await mail.waitFor(person.email);
    const [toNobody] = await mail.waitFor(nobody);
    assert.equal(toPerson!.subject, toNobody!.subject, 'the same subject');
    assert.match(toPerson!.text, /\/reset-password\?token=/);
    assert.doesNotMatch(toNobody!.text, /token=/, 'no link for an address without an account');
    assert.match(toNobody!.text, /there is no account for it/);
    // The same work on both paths: one stored link each.
    assert.equal(await server.runtime.db.linkToken.count({ where: { email: nobody } }), 1);
  });

  it('a reset link sets a new password once; the old one stops working; weak passwords are refused without spending the link', async () => {
    const person = await createUser(server);
    await askForReset(person.email);
    const link = await resetLink(person.email);
    const page = (await new Browser(server.url).navigate(link)) as Page;
    assert.match(pageText(page.html), new RegExp(`Choose a new password For ${person.email.replace('.', '\\.')}`));

    const weak = await choose(link, 'password123');
    assert.equal(weak.status, 400);
    assert.match(pageText(weak.html), /commonly used/);
    assert.doesNotMatch(weak.html, /password123/);
    const mismatch = await choose(link, NEW_PASSWORD, 'something else entirely');
    assert.match(pageText(mismatch.html), /do not match/);

    const done = await choose(link, NEW_PASSWORD);
    assert.equal(done.status, 200);
    assert.match(pageText(done.html), /Your password was changed/);
    assert.equal((await server.runtime.signIn.password(person.email, person.password, {})).kind, 'failed');
    assert.equal((await server.runtime.signIn.password(person.email, NEW_PASSWORD, {})).kind, 'ok');

    const twice = await choose(link, 'yet another long passphrase');
    assert.equal(twice.status, 400);
    assert.match(pageText(twice.html), /already used/);
    assert.equal((await server.runtime.signIn.password(person.email, NEW_PASSWORD, {})).kind, 'ok', 'the second use changed nothing');
    const audit = (await server.runtime.audit.list({ userId: person.id })).map((e) => e.type);
    assert.ok(audit.includes('password_reset_requested') && audit.includes('password_reset'), audit.join(' '));
  });

  it('tampered, expired, raced and superseded links are refused', async () => {
    const person = await createUser(server);
    await askForReset(person.email);
    const link = await resetLink(person.email);
    const token = new URL(link).searchParams.get('token')!;
    for (const bad of [`${token.slice(0, -2)}xx`, token.slice(1), `${token}A`, '']) {
      const page = (await new Browser(server.url).navigate(`${server.issuer}/reset-password?token=${encodeURIComponent(bad)}`)) as Page;
      assert.equal(page.status, 400, bad);
      assert.match(pageText(page.html), /This link is not valid/);
    }
    // Ten posts with the right link at once: one password is set.
    const opened = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const b = new Browser(server.url);
        return { b, i, p: (await b.navigate(link)) as Page };
      }),
    );
    const answers = await Promise.all(
      opened.map(
        ({ b, p, i }) =>
          b.navigate(`${server.url}/reset-password`, {
            form: { csrf: csrfToken(p.html), token, password: `${NEW_PASSWORD} ${i}`, confirm: `${NEW_PASSWORD} ${i}` },
          }) as Promise<Page>,
      ),
    );
    assert.equal(answers.filter((a) => a.status === 200).length, 1, answers.map((a) => a.status).join(','));
    const winner = answers.findIndex((a) => a.status === 200);
    assert.equal((await server.runtime.signIn.password(person.email, `${NEW_PASSWORD} ${winner}`, {})).kind, 'ok');

    // Two links asked for; using one retires the other.
    await askForReset(person.email);
    await askForReset(person.email);
    const [first, second] = [await resetLink(person.email, 2), await resetLink(person.email, 3)];
    assert.equal((await choose(second, NEW_PASSWORD)).status, 200);
    assert.match(pageText((await choose(first, 'yet another long passphrase')).html), /already used|not valid/);

    await askForReset(person.email);
    const late = await resetLink(person.email, 4);
    await server.runtime.db.linkToken.updateMany({ where: { email: person.email, usedAt: null }, data: { expiresAt: new Date(Date.now() - 1) } });
    const expired = (await new Browser(server.url).navigate(late)) as Page;
    assert.equal(expired.status, 400);
    assert.match(pageText(expired.html), /expired/);
  });

  it('a reset ends every session and revokes refresh tokens, including ones the attacker holds', async () => {
    const person = await createUser(server);
    // The attacker (who knew the old password) is signed in with a refresh token; so is the owner elsewhere.
    const attacker = new Browser(server.url);
    const { tokens } = await codeFlow(client, attacker, person, { scope: 'openid offline_access', prompt: 'consent' });
    assert.ok(tokens.refresh_token);
    assert.match(pageText(((await attacker.navigate(`${server.url}/account`)) as Page).html), /Your account/);
    const grants = (await server.runtime.db.oidcPayload.findMany({ where: { type: 'Grant', accountId: person.id } })).map((g) => g.id);
    assert.equal(await server.runtime.db.oidcPayload.count({ where: { grantId: { in: grants }, type: 'RefreshToken' } }), 1);

    const owner = new Browser(server.url);
    await askForReset(person.email, owner);
    const done = await choose(await resetLink(person.email), NEW_PASSWORD, NEW_PASSWORD, owner);
    assert.equal(done.status, 200);

    const account = (await attacker.navigate(`${server.url}/account`)) as Page;
    assert.match(account.html, /action="[^"]*\/login"/, 'the old session opens nothing');
    await assert.rejects(oidc.refreshTokenGrant(client.config, tokens.refresh_token!), 'the refresh token is revoked');
    assert.equal((await oidc.tokenIntrospection(client.config, tokens.access_token)).active, false);
    assert.equal(await server.runtime.db.oidcPayload.count({ where: { accountId: person.id, type: { in: ['Session', 'Grant'] } } }), 0);
    // The tokens and codes name only their grant (src/oidc/adapter.ts).
    assert.equal(await server.runtime.db.oidcPayload.count({ where: { grantId: { in: grants } } }), 0);
    // "Continue" from the browser that asked goes back to that sign-in.
    const next = done.html.match(/class="button" href="([^"]+)"/)![1]!;
    assert.match(next, /^\/interaction\/[^/]+\/signin\?notice=reset$/);
  });

  it('a reset clears the failed attempts counted so far, but a lock in force stays', async () => {
    const person = await createUser(server);
    const key = server.runtime.lockout.keyFor(person.email);
    await server.runtime.signIn.password(person.email, 'wrong guess one', {});
    await server.runtime.signIn.password(person.email, 'wrong guess two', {});
    await askForReset(person.email);
    await choose(await resetLink(person.email), NEW_PASSWORD);
    assert.equal(await server.runtime.db.lockout.count({ where: { key } }), 0, 'the two failures are forgotten');

    for (let i = 0; i < 3; i++) await server.runtime.signIn.password(person.email, `wrong ${i}`, {});
    assert.equal((await server.runtime.signIn.password(person.email, NEW_PASSWORD, {})).kind, 'locked');
    await askForReset(person.email);
    const other = `${NEW_PASSWORD} again`;
    assert.equal((await choose(await resetLink(person.email, 2), other)).status, 200);
    assert.equal((await server.runtime.signIn.password(person.email, other, {})).kind, 'locked', 'the lock is not lifted by a reset');
  });

  it('a disabled person gets the "no account" message and no link', async () => {
    const person = await createUser(server);
    await server.runtime.users.setDisabled(person.id, true);
    await askForReset(person.email);
    const [message] = await mail.waitFor(person.email);
    assert.doesNotMatch(message!.text, /token=/);
  });
});

describe('mail the SMTP server refuses', () => {
  let server: TestServer;
  let mail: MailCatcher;
  before(async () => {
    mail = await startMailCatcher({ rejectAll: true });
    server = await startTestServer({ SMTP_URL: mail.url, REGISTRATION: 'open' });
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  it('is logged with its SMTP status only: no recipient, and nothing that tells a known address from an unknown one', async () => {
    const person = await createUser(server);
    const nobody = `nobody-${Date.now()}@example.test`;
    const failures = () => server.logs.filter((l) => l.includes('mail could not be sent'));
    const logged: Record<string, unknown>[] = [];
    // A reset for an account and for none; a sign-up for an existing address and a new one.
    const requests = [
      () => server.runtime.accountLinks.requestPasswordReset(person.email, {}),
      () => server.runtime.accountLinks.requestPasswordReset(nobody, {}),
      () => server.runtime.accountLinks.signUp({ email: person.email, name: 'Someone' }, {}),
      () => server.runtime.accountLinks.signUp({ email: nobody, name: 'Someone' }, {}),
    ];
    for (const request of requests) {
      const before = failures().length;
      assert.equal((await request()).ok, true);
      await server.runtime.mailer.flush();
      const lines = failures().slice(before);
      assert.equal(lines.length, 1, 'the failure is logged');
      for (const line of lines) {
        assert.doesNotMatch(line, new RegExp(`${person.email}|${nobody}|@example\\.test`, 'i'), 'no recipient');
        assert.doesNotMatch(line, /reset-password|reset-unknown|signup-exists|signup-confirm|template/, 'no template');
      }
      const { time: _time, ...rest } = JSON.parse(lines[0]!) as Record<string, unknown>;
      logged.push(rest);
    }
    assert.deepEqual((logged[0] as { smtp: unknown }).smtp, { error: 'EENVELOPE', reply: 550, command: 'RCPT TO' });
    for (const line of logged.slice(1)) assert.deepEqual(line, logged[0], 'every failure reads the same');
  });
});
