// Every form added for sign-up, mail links and passkeys refuses a post that
// does not carry this browser's CSRF token (what a cross-site page would
// send: the browser's cookies, but a token it cannot know), before anything
// is sent, created or changed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signInToAccount } from '../helpers/account.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, createUser, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('new forms refuse cross-site posts', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let client: TestClient;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ REGISTRATION: 'open', SMTP_URL: mail.url });
    client = await registerClient(server);
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  it('sign-up, forgotten password, link pages, passkeys and confirmation requests: 403 without the token, and nothing happens', async () => {
    const person = await createUser(server, 'margaret.h@example.test', 'apollo guidance computer', 'Margaret Hamilton');
    await server.runtime.db.user.update({ where: { id: person.id }, data: { emailVerified: false } });
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const login = (await browser.navigate((await authRequest(client)).url.href)) as Page;
    const uid = login.url.match(/\/interaction\/([^/?]+)/)![1]!;
    const invite = await server.runtime.accountLinks.invite({ email: 'invited@example.test' }, {});
    const inviteToken = new URL(invite.url).searchParams.get('token')!;
    const forged = 'x'.repeat(43);
    const posts: [string, Record<string, string>][] = [
      [
        `/interaction/${uid}/signup`,
        { email: 'new.person@example.test', name: 'New', password: 'a perfectly good passphrase', confirm: 'a perfectly good passphrase' },
      ],
      [`/interaction/${uid}/forgot`, { email: person.email }],
      [`/interaction/${uid}/verify/resend`, {}],
      [`/interaction/${uid}/passkey`, { credential: '{"id":"x"}' }],
      ['/invitation', { token: inviteToken, name: 'Invited', password: 'a perfectly good passphrase', confirm: 'a perfectly good passphrase' }],
      ['/reset-password', { token: 'A'.repeat(43), password: 'a perfectly good passphrase', confirm: 'a perfectly good passphrase' }],
      ['/verify-email', { token: 'A'.repeat(43) }],
      ['/account/verify-email', {}],
      ['/account/passkeys/start', { password: person.password }],
      ['/account/passkeys', { token: 'A'.repeat(43), credential: '{"id":"x"}', name: 'Planted' }],
      ['/account/passkeys/some-id/remove', { password: person.password }],
    ];
    for (const [path, form] of posts) {
      const r = (await browser.navigate(`${server.url}${path}`, { form: { csrf: forged, ...form } })) as Page;
      assert.equal(r.status, 403, path);
    }
    await mail.settle(person.email, 300);
    assert.deepEqual(mail.recipients, [], 'no mail was sent');
    assert.equal(await server.runtime.users.findByEmail('invited@example.test'), undefined, 'the invitation was not used');
    assert.equal((await server.runtime.accountLinks.peekInvitation(inviteToken)).ok, true);
    assert.equal(
      await server.runtime.db.oidcPayload.count({ where: { type: 'WebAuthnChallenge', accountId: person.id } }),
      0,
      'no passkey registration started',
    );
  });
});
