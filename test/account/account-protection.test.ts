// What an open session alone must not be enough for, and what ends when a
// person is disabled. Each test is the attack the hostile review tried.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountCsrf, enrollFromAccount, enrollmentToken, signInToAccount, startEnrollment } from '../helpers/account.ts';
import { Browser, csrfToken, pageText, type Page } from '../helpers/browser.ts';
import { adminCli } from '../helpers/cli.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, stopClockMidStep, type TestServer } from '../helpers/server.ts';
import { totp as totpAt } from '../helpers/totp.ts';

describe('the account page asks who you are before changing a second factor', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '5' });
    stopClockMidStep(server); // codes on the server's clock, stopped mid-step: no boundary between a code and its check
  });
  after(() => server.stop());
  const totp = (secret: string, steps = 0) => totpAt(secret, steps, server.runtime.clock.now());

  const pending = async (id: string) => (await server.runtime.db.user.findUniqueOrThrow({ where: { id } })).totpPendingEnc;

  it('with only a session cookie, no factor can be added: GET starts nothing, POST needs the password', async () => {
    const owner = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, owner.email, owner.password);
    const csrf = await accountCsrf(browser, server);
    const get = (await browser.navigate(`${server.url}/account/totp`)) as Page;
    assert.ok(get.status === 404 || get.status === 405, `GET /account/totp → ${get.status}`);
    assert.doesNotMatch(get.html, /totp-secret/);
    assert.equal(await pending(owner.id), null, 'a GET started no enrolment');
    const start = (await browser.navigate(`${server.url}/account/totp/start`, { form: { csrf } })) as Page;
    assert.doesNotMatch(start.html, /totp-secret/);
    assert.equal(await pending(owner.id), null);
    assert.equal(await server.runtime.users.hasSecondFactor(owner.id), false);
  });

  it('with only a session cookie, an existing factor cannot be replaced', async () => {
    const owner = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, owner.email, owner.password);
    const { secret, codes } = await enrollFromAccount(browser, server, owner.password);
    const csrf = await accountCsrf(browser, server);

    // POSTing without the password, or with it but without the current code.
    for (const form of [{}, { password: 'guess' }, { password: owner.password }, { password: owner.password, code: '000000' }] as Record<string, string>[]) {
      const r = (await browser.navigate(`${server.url}/account/totp/start`, { form: { csrf, ...form } })) as Page;
      assert.equal(r.status, 400, JSON.stringify(form));
      assert.doesNotMatch(r.html, /totp-secret/);
    }
    assert.equal(await pending(owner.id), null, 'no pending secret was created');
    // Confirming with a code for a secret of one's own making, without an enrolment token.
    const confirm = (await browser.navigate(`${server.url}/account/totp`, { form: { csrf, code: totp(secret, 1) } })) as Page;
    assert.equal(confirm.status, 400);
    assert.doesNotMatch(confirm.html, /<li><code>/, 'no new recovery codes');
    // The owner's recovery codes still work.
    assert.equal(await server.runtime.db.recoveryCode.count({ where: { userId: owner.id, usedAt: null } }), codes.length);
  });

  it('a half-finished enrolment is not shown or completed for a request without its token', async () => {
    const owner = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, owner.email, owner.password);
    const started = await startEnrollment(browser, server, owner.password);
    const ownerSecret = started.html.match(/id="totp-secret">([A-Z2-7]+)</)![1]!;
    // Someone else on the same session posts a wrong code, hoping the page shows the pending secret again.
    const probe = (await browser.navigate(`${server.url}/account/totp`, { form: { csrf: csrfToken(started.html), code: '123456' } })) as Page;
    assert.equal(probe.status, 400);
    assert.ok(!probe.html.includes(ownerSecret), 'the pending secret is not revealed');
    // The owner, with the token from their page, finishes.
    const done = (await browser.navigate(`${server.url}/account/totp`, {
      form: { csrf: csrfToken(started.html), enrollment: enrollmentToken(started.html), code: totp(ownerSecret) },
    })) as Page;
    assert.match(pageText(done.html), /Save your recovery codes/);
  });

  it('replacing a factor works with the password and the current code', async () => {
    const owner = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, owner.email, owner.password);
    const { secret } = await enrollFromAccount(browser, server, owner.password);
    const next = await startEnrollment(browser, server, owner.password, totp(secret, 1));
    const newSecret = next.html.match(/id="totp-secret">([A-Z2-7]+)</)![1]!;
    assert.notEqual(newSecret, secret);
    const done = (await browser.navigate(`${server.url}/account/totp`, {
      form: { csrf: csrfToken(next.html), enrollment: enrollmentToken(next.html), code: totp(newSecret) },
    })) as Page;
    assert.match(pageText(done.html), /Save your recovery codes/);
  });

  it('password re-checks on the account page go through the lockout and the audit trail', async () => {
    const owner = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, owner.email, owner.password);
    const csrf = await accountCsrf(browser, server);
    const change = (current: string) =>
      browser.navigate(`${server.url}/account/password`, {
        form: { csrf, current, password: 'a brand new passphrase', confirm: 'a brand new passphrase' },
      }) as Promise<Page>;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => change(`wrong-${i}`)));
    assert.ok(
      answers.every((a) => a.status === 400),
      answers.map((a) => a.status).join(','),
    );
    const right = await change(owner.password);
    assert.equal(right.status, 400, 'locked: the right password is refused too');
    assert.match(pageText(right.html), /temporarily locked/);
    assert.equal(
      (await server.runtime.signIn.password(owner.email, 'a brand new passphrase', {})).kind,
      'locked',
      'the password was not changed, and sign-in is locked too',
    );
    const audit = (await server.runtime.audit.list({ userId: owner.id, limit: 50 })).map((e) => `${e.type}:${String(e.detail?.reason ?? '')}`);
    const checked = audit.filter((t) => t === 'reauth_failed:bad_password').length;
    assert.ok(checked >= 1 && checked <= 5, audit.join(' '));
    assert.ok(audit.includes('account_locked:'), audit.join(' '));
  });
});

describe('a stolen session cookie is not a sign-in', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '5' });
    stopClockMidStep(server); // codes on the server's clock, stopped mid-step: no boundary between a code and its check
  });
  after(() => server.stop());
  const totp = (secret: string, steps = 0) => totpAt(secret, steps, server.runtime.clock.now());

  it('step-up to two factors with only the session of a person who has none asks for the password, never enrols', async () => {
    const victim = await createUser(server);
    const own = new Browser(server.url);
    await signInToAccount(own, server, victim.email, victim.password);
    const thief = new Browser(server.url);
    for (const name of ['_session', '_session.sig']) thief.setCookie(name, own.cookie(name)!);
    const strict = await registerClient(server, { name: 'Treasury' });
    await server.runtime.clients.update(strict.clientId, { requireMfa: true });
    for (const req of [await authRequest(strict), await authRequest(strict, { acr_values: 'urn:latchkey:acr:mfa' })]) {
      const page = (await thief.navigate(req.url.href)) as Page;
      assert.match(page.html, /action="[^"]*\/login"/, 'the password is asked for');
      assert.doesNotMatch(page.html, /totp-secret|name="enrollment"/, 'no enrolment is offered');
    }
    assert.equal((await server.runtime.db.user.findUniqueOrThrow({ where: { id: victim.id } })).totpPendingEnc, null);
    assert.equal(await server.runtime.users.hasSecondFactor(victim.id), false);
  });

  it('a password-only re-check does not clear failed second-factor codes: at most the threshold of them per lock window', async () => {
    const owner = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, owner.email, owner.password);
    const { secret } = await enrollFromAccount(browser, server, owner.password);
    const csrf = await accountCsrf(browser, server);
    const wrongCode = String((Number(totp(secret, 1)) + 1) % 1_000_000).padStart(6, '0');
    let codesChecked = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) {
        const r = (await browser.navigate(`${server.url}/account/totp/remove`, { form: { csrf, password: owner.password, code: wrongCode } })) as Page;
        if (r.status === 400) codesChecked++;
      }
      // The review's reset: a password-only success in between.
      await browser.navigate(`${server.url}/account/password`, { form: { csrf, current: owner.password, password: owner.password, confirm: owner.password } });
    }
    const audit = (await server.runtime.audit.list({ userId: owner.id, limit: 100 })).map((e) => `${e.type}:${String(e.detail?.reason ?? '')}`);
    assert.ok(audit.filter((t) => t === 'reauth_failed:bad_code').length <= 5, audit.join(' '));
    assert.ok(audit.includes('account_locked:'), `locked after at most five wrong codes: ${audit.join(' ')}`);
    assert.ok(codesChecked <= 5);
  });
});

describe('disabling a person ends their sessions, grants and tokens at once', () => {
  let server: TestServer;
  let app: TestClient;
  let other: TestClient;
  before(async () => {
    server = await startTestServer();
    app = await registerClient(server, { name: 'Notes' });
    other = await registerClient(server, { name: 'Calendar' });
  });
  after(() => server.stop());

  const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);

  it('user disable: the old session opens nothing, SSO asks to sign in (no 5xx), refresh and introspection fail', async () => {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    const { tokens } = await codeFlow(app, browser, person, { scope: 'openid offline_access', prompt: 'consent' });
    assert.match(pageText(((await browser.navigate(`${server.url}/account`)) as Page).html), /Your account/, 'signed in (SSO)');

    // Its tokens name only their grant (src/oidc/adapter.ts): they are counted through it below.
    const grants = (await server.runtime.db.oidcPayload.findMany({ where: { type: 'Grant', accountId: person.id } })).map((g) => g.id);
    assert.ok(grants.length > 0);
    const r = await admin('user', 'disable', person.id, '--json');
    assert.equal(r.code, 0, r.stderr);

    const account = (await browser.navigate(`${server.url}/account`)) as Page;
    assert.match(account.html, /action="[^"]*\/login"/, 'the account page asks to sign in');
    assert.doesNotMatch(pageText(account.html), /Your account/);
    const setup = (await browser.navigate(`${server.url}/account/totp/start`, { form: { csrf: 'x', password: person.password } })) as Page;
    assert.doesNotMatch(setup.html, /totp-secret/);

    const sso = await browser.navigate((await authRequest(other)).url.href);
    assert.ok(!('redirect' in sso), 'no code without signing in');
    assert.equal((sso as Page).status, 200);
    assert.match((sso as Page).html, /action="[^"]*\/login"/);
    const login = await (await import('../helpers/relying-party.ts')).submitLogin(browser, sso as Page, person.email, person.password);
    assert.equal((login as Page).status, 401, 'a disabled person cannot sign in');

    await assert.rejects(oidc.refreshTokenGrant(app.config, tokens.refresh_token!));
    assert.equal((await oidc.tokenIntrospection(app.config, tokens.access_token)).active, false);
    assert.equal(await server.runtime.db.oidcPayload.count({ where: { accountId: person.id } }), 0);
    assert.equal(await server.runtime.db.oidcPayload.count({ where: { grantId: { in: grants } } }), 0);
  });

  it('a session whose person is disabled behind its back (another node, a race) never yields a 5xx or a code', async () => {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    await codeFlow(app, browser, person);
    assert.match(pageText(((await browser.navigate(`${server.url}/account`)) as Page).html), /Your account/, 'signed in (SSO)');
    await server.runtime.db.user.update({ where: { id: person.id }, data: { disabled: true } });

    for (const client of [app, other]) {
      const out = await browser.navigate((await authRequest(client)).url.href);
      assert.ok(!('redirect' in out) || !new URL(out.redirect).searchParams.get('code'), 'no code for a disabled person');
      if (!('redirect' in out)) assert.ok(out.status < 500, `${out.status}: ${out.html.slice(0, 200)}`);
    }
    const page = (await browser.navigate(`${server.url}/account`)) as Page;
    assert.match(page.html, /action="[^"]*\/login"/);
  });
});
