// A stolen session must not become a permanent credential: the thief cannot
// mint an API key with the session cookie alone, and whatever key exists
// does not survive the owner taking the account back (a password reset,
// "sign out everywhere", an operator disabling the account). Driven as the
// thief and the owner would: the cookie copied into another client, the
// reset mailed to a real SMTP server, the keys tried at introspection and
// at the token exchange afterwards, several at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enrollFromAccount, signInToAccount } from '../helpers/account.ts';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { adminCli } from '../helpers/cli.ts';
import { exchange, introspect, resourceServerClient } from '../helpers/api-keys.ts';
import { linkIn, startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { totp } from '../helpers/totp.ts';

const BILLING = 'https://billing.example.test';
const NEW_PASSWORD = 'a river runs through the valley';

describe('API keys and a stolen session', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let rs: { id: string; secret: string };
  let saId: string;
  let app: TestClient;

  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ SMTP_URL: mail.url });
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read' });
    rs = await resourceServerClient(server, [BILLING]);
    saId = (await server.runtime.serviceAccounts.create({ name: 'nightly', scope: 'invoices.read', generateKey: 'ES256' })).account.clientId;
    // A first-party app that manages people's keys through the JSON API.
    app = await registerClient(server, { name: 'Key Manager', apiScope: 'api-keys' });
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
  const keyOf = async (owner: { userId: string } | { clientId: string }, name = 'left behind') =>
    (await server.runtime.apiKeys.create({ owner, name, scope: 'invoices.read' })).key;
  const active = async (key: string) => (await introspect(server, rs, { token: key })).body.active === true;

  /** The thief's client: a copy of every cookie of the owner's browser, nothing else. */
  function stealSession(owner: Browser): Browser {
    const thief = new Browser(server.url);
    for (const name of owner.cookieNames()) thief.setCookie(name, owner.cookie(name)!);
    return thief;
  }
  const keysOf = async (person: { id: string }) => (await server.runtime.apiKeys.list({ owner: { userId: person.id } })).length;
  const newKeyForm = (csrf: string, extra: Record<string, string> = {}) => ({ csrf, name: 'exfiltration', scope: 'invoices.read', expires: '30d', ...extra });

  /** Every way a key is used, several at once: all refused. */
  async function assertDead(key: string, what: string) {
    const tries = await Promise.all([
      ...Array.from({ length: 4 }, () => introspect(server, rs, { token: key })),
      ...Array.from({ length: 4 }, () => exchange(server, { subject_token: key, resource: BILLING })),
    ]);
    for (const t of tries.slice(0, 4)) assert.deepEqual(t.body, { active: false }, `${what}: introspection`);
    for (const t of tries.slice(4)) {
      assert.equal(t.status, 400, `${what}: exchange`);
      assert.equal(t.body.error, 'invalid_grant', `${what}: exchange`);
    }
  }

  /** The owner's "Forgot your password?" from the sign-in page, and the mailed link used. */
  async function resetByMail(person: TestPerson): Promise<Page> {
    const owner = new Browser(server.url);
    const login = (await owner.navigate(`${server.url}/account`)) as Page;
    const forgot = (await owner.navigate(new URL(login.html.match(/href="([^"]*\/forgot)"/)![1]!, login.url).href)) as Page;
    await owner.navigate(new URL(formAction(forgot.html, '/forgot'), forgot.url).href, { form: { csrf: csrfToken(forgot.html), email: person.email } });
    const link = linkIn((await mail.waitFor(person.email)).at(-1)!, '/reset-password?token=');
    const form = (await owner.navigate(link)) as Page;
    assert.match(pageText(form.html), /your API keys will be revoked/, 'the reset page says so before');
    const token = form.html.match(/name="token" value="([^"]+)"/)![1]!;
    return (await owner.navigate(`${server.url}/reset-password`, {
      form: { csrf: csrfToken(form.html), token, password: NEW_PASSWORD, confirm: NEW_PASSWORD },
    })) as Page;
  }

  it('on the account page a session alone mints no key: the password is asked again, and the code with an authenticator app', async () => {
    const victim = await createUser(server);
    const owner = new Browser(server.url);
    await signInToAccount(owner, server, victim.email, victim.password);
    const thief = stealSession(owner);
    const page = (await thief.navigate(`${server.url}/account/api-keys/new`)) as Page;
    assert.equal(page.status, 200, 'the stolen cookie opens the account page');
    const csrf = csrfToken(page.html);
    const tries = await Promise.all(
      ([{}, { password: '' }, { password: 'guess one' }, { password: 'guess two' }] as Record<string, string>[]).map(
        (extra) => thief.navigate(`${server.url}/account/api-keys`, { form: newKeyForm(csrf, extra) }) as Promise<Page>,
      ),
    );
    for (const r of tries) {
      assert.equal(r.status, 400);
      assert.match(pageText(r.html), /Your password is not correct\./);
      assert.doesNotMatch(r.html, /lk_test_[0-9A-Za-z]{40}/);
      assert.match(r.html, /id="key-name"[^>]*value="exfiltration"/, 'the form is kept');
    }
    assert.equal(await keysOf(victim), 0);
    const failures = (await server.runtime.audit.list({ userId: victim.id, type: 'reauth_failed' })).length;
    assert.ok(failures >= 4, `every guess is counted by the lockout and audited (${failures})`);

    const made = (await owner.navigate(`${server.url}/account/api-keys`, { form: newKeyForm(csrf, { name: 'mine', password: victim.password }) })) as Page;
    assert.equal(made.status, 200);
    assert.match(made.html, /Copy your new API key/);
    assert.equal(await keysOf(victim), 1);

    // With an authenticator app, the password alone is not enough either.
    const careful = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, careful.email, careful.password);
    const { secret } = await enrollFromAccount(browser, server, careful.password);
    const account = (await browser.navigate(`${server.url}/account/api-keys/new`)) as Page;
    assert.match(account.html, /id="key-code"/, 'the form asks for the code');
    const noCode = (await browser.navigate(`${server.url}/account/api-keys`, {
      form: newKeyForm(csrfToken(account.html), { password: careful.password }),
    })) as Page;
    assert.equal(noCode.status, 400);
    assert.match(pageText(noCode.html), /That code is not correct, or was already used\./);
    assert.equal(await keysOf(careful), 0);
    const withCode = (await browser.navigate(`${server.url}/account/api-keys`, {
      form: newKeyForm(csrfToken(account.html), { password: careful.password, code: totp(secret, 1) }),
    })) as Page;
    assert.match(withCode.html, /Copy your new API key/);
    assert.equal(await keysOf(careful), 1);
  });

  it('through the JSON API a token from an old sign-in gets an RFC 9470 step-up challenge; a fresh sign-in creates the key', async () => {
    const victim = await createUser(server);
    const owner = new Browser(server.url);
    const api = `${server.issuer}/api`;
    const params = { resource: api, scope: 'openid api-keys offline_access', prompt: 'consent' };
    const create = (token: string, name: string) =>
      fetch(`${server.url}/api/v1/me/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, scope: 'invoices.read' }),
      });
    const fresh = await codeFlow(app, owner, victim, params);
    assert.equal((await create(fresh.tokens.access_token, 'just signed in')).status, 201, 'the control: a fresh sign-in may');

    // The session the thief holds was signed in to an hour ago.
    const sessions = await server.runtime.db.oidcPayload.findMany({ where: { type: 'Session', accountId: victim.id } });
    for (const row of sessions) {
      const payload = JSON.parse(row.payload) as { loginTs: number };
      await server.runtime.db.oidcPayload.update({
        where: { type_id: { type: 'Session', id: row.id } },
        data: { payload: JSON.stringify({ ...payload, loginTs: payload.loginTs - 3600 }) },
      });
    }
    const thief = stealSession(owner);
    const stale = await codeFlow(app, thief, undefined, params);
    const refreshed = await oidc.refreshTokenGrant(app.config, stale.tokens.refresh_token!);
    for (const token of [stale.tokens.access_token, refreshed.access_token]) {
      const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => create(token, `stolen ${i}`)));
      for (const res of answers) {
        assert.equal(res.status, 401);
        assert.match(res.headers.get('content-type')!, /problem\+json/);
        const challenge = res.headers.get('www-authenticate')!;
        assert.match(challenge, /^Bearer /);
        assert.match(challenge, /error="insufficient_user_authentication"/);
        assert.match(challenge, /max_age="300"/);
        assert.match(((await res.json()) as { detail: string }).detail, /sign-in in the last 300 seconds; this token's was 36\d\d seconds ago/);
      }
    }
    assert.equal(await keysOf(victim), 1, 'nothing created with the old sign-in, nor with a refreshed token of it');

    // Following the challenge asks for the password: the thief is stopped there, the owner is not.
    const stepUp = { ...params, max_age: '300' };
    const asked = (await thief.navigate((await authRequest(app, stepUp)).url.href)) as Page;
    assert.match(asked.html, /action="[^"]*\/login"/, 'max_age makes the sign-in page ask again');
    const again = await codeFlow(app, owner, victim, stepUp);
    assert.equal((await create(again.tokens.access_token, 'after signing in again')).status, 201);
    assert.equal(await keysOf(victim), 2);
  });

  it("a password reset revokes every key of the person, not a service account's or another person's", async () => {
    const victim = await createUser(server);
    const bystander = await createUser(server);
    const planted = [await keyOf({ userId: victim.id }, 'planted'), await keyOf({ userId: victim.id }, 'another')];
    const others = [await keyOf({ userId: bystander.id }), await keyOf({ clientId: saId })];
    for (const k of [...planted, ...others]) assert.equal(await active(k), true);

    const done = await resetByMail(victim);
    assert.equal(done.status, 200);
    assert.match(pageText(done.html), /your API keys were revoked/);

    for (const k of planted) await assertDead(k, 'after the reset');
    for (const k of others) assert.equal(await active(k), true, "untouched by this person's reset");
    const reset = (await server.runtime.audit.list({ userId: victim.id, type: 'password_reset' }))[0]!;
    assert.equal(reset.detail!.api_keys_revoked, 2);
  });

  it('"sign out everywhere" revokes the keys too, and the page says so first', async () => {
    const victim = await createUser(server);
    const bystander = await createUser(server);
    const owner = new Browser(server.url);
    await keyOf({ userId: victim.id }, 'planted');
    await signInToAccount(owner, server, victim.email, victim.password);
    const planted = await keyOf({ userId: victim.id }, 'planted too');
    const others = [await keyOf({ userId: bystander.id }), await keyOf({ clientId: saId })];
    const thief = stealSession(owner);
    assert.equal(((await thief.navigate(`${server.url}/account`)) as Page).status, 200);

    const page = (await owner.navigate(`${server.url}/account/sessions`)) as Page;
    assert.match(pageText(page.html), /Ends every session on every device and revokes all your API keys/);
    const out = (await owner.navigate(`${server.url}/account/sign-out-everywhere`, { form: { csrf: csrfToken(page.html) } })) as Page;
    assert.match(pageText(out.html), /signed out on every device, and your API keys were revoked/);

    for (const b of [owner, thief]) assert.match(((await b.navigate(`${server.url}/account`)) as Page).html, /action="[^"]*\/login"/, 'signed out');
    await assertDead(planted, 'after signing out everywhere');
    for (const k of others) assert.equal(await active(k), true);
    const event = (await server.runtime.audit.list({ userId: victim.id, type: 'signed_out_everywhere' }))[0]!;
    assert.equal(event.detail!.api_keys_revoked, 2);
  });

  it("disabling the person revokes their keys for good; a service account's come back when it is enabled", async () => {
    const person = await createUser(server);
    const key = await keyOf({ userId: person.id });
    const sa = (await server.runtime.serviceAccounts.create({ name: 'paused', scope: 'invoices.read', generateKey: 'ES256' })).account.clientId;
    const saKey = await keyOf({ clientId: sa });
    for (const sub of ['disable', 'enable']) {
      const r = await admin('user', sub, person.id, '--json');
      assert.equal(r.code, 0, r.stderr);
    }
    await assertDead(key, 'after the person was disabled and enabled again');
    assert.ok(
      (await server.runtime.apiKeys.list({ owner: { userId: person.id } })).every((k) => k.revokedAt),
      'revoked, not merely paused',
    );

    for (const sub of ['disable', 'enable']) {
      const r = await admin('service-account', sub, sa, '--json');
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(await active(saKey), true, "a service account's keys are paused while it is disabled, not revoked");
  });
});
