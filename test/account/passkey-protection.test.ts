// What a session alone must not be enough for, for passkeys: planting one's
// own passkey on someone's account, or finishing another person's
// registration. (A real passkey ceremony is in passkeys.browser.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signInToAccount } from '../helpers/account.ts';
import { Browser, csrfToken, pageText, type Page } from '../helpers/browser.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('adding a passkey needs more than a session', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '5' });
  });
  after(() => server.stop());

  const challenges = (accountId: string) => server.runtime.db.oidcPayload.count({ where: { type: 'WebAuthnChallenge', accountId } });

  it('with only a session cookie no registration starts; a wrong password is counted by the lockout', async () => {
    const owner = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, owner.email, owner.password);
    const account = (await browser.navigate(`${server.url}/account/confirm?action=passkey-add`)) as Page;
    assert.match(account.html, /<label for="reauth-password">Your password, to confirm<\/label>/);
    for (const form of [{}, { password: 'guess' }] as Record<string, string>[]) {
      const r = (await browser.navigate(`${server.url}/account/passkeys/start`, { form: { csrf: csrfToken(account.html), ...form } })) as Page;
      assert.equal(r.status, 400);
      assert.doesNotMatch(r.html, /data-passkey="create"/);
    }
    assert.equal(await challenges(owner.id), 0);
    const audit = (await server.runtime.audit.list({ userId: owner.id })).map((e) => `${e.type}:${String(e.detail?.reason ?? '')}`);
    assert.ok(audit.includes('reauth_failed:bad_password'), audit.join(' '));

    const started = (await browser.navigate(`${server.url}/account/passkeys/start`, {
      form: { csrf: csrfToken(account.html), password: owner.password },
    })) as Page;
    assert.equal(started.status, 200);
    assert.match(started.html, /data-passkey="create"/);
    assert.match(started.headers.get('content-security-policy')!, /script-src 'self'/, 'the passkey page may run our script');
    assert.doesNotMatch(account.headers.get('content-security-policy')!, /script-src/, 'the account page runs none');
    assert.equal(await challenges(owner.id), 1);
  });

  it("another person's registration cannot be finished from this session, nor one without its token", async () => {
    const victim = await createUser(server);
    const victimBrowser = new Browser(server.url);
    await signInToAccount(victimBrowser, server, victim.email, victim.password);
    const victimAccount = (await victimBrowser.navigate(`${server.url}/account/confirm?action=passkey-add`)) as Page;
    const started = (await victimBrowser.navigate(`${server.url}/account/passkeys/start`, {
      form: { csrf: csrfToken(victimAccount.html), password: victim.password },
    })) as Page;
    const token = started.html.match(/name="token" value="([^"]+)"/)![1]!;

    const attacker = await createUser(server);
    const attackerBrowser = new Browser(server.url);
    await signInToAccount(attackerBrowser, server, attacker.email, attacker.password);
    const attackerAccount = (await attackerBrowser.navigate(`${server.url}/account/confirm?action=passkey-add`)) as Page;
    for (const form of [{ token }, { token: 'made-up' }, {}] as Record<string, string>[]) {
      const r = (await attackerBrowser.navigate(`${server.url}/account/passkeys`, {
        form: { csrf: csrfToken(attackerAccount.html), credential: '{"id":"AAAA","response":{}}', name: 'mine', ...form },
      })) as Page;
      assert.equal(r.status, 400);
      assert.match(pageText(r.html), /expired or was already used/);
    }
    assert.equal((await server.runtime.passkeys.count(attacker.id)) + (await server.runtime.passkeys.count(victim.id)), 0);
    // The victim's registration is untouched by the attempts.
    assert.equal(await challenges(victim.id), 1);
  });
});
