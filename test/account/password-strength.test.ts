// Changing the password on the account page: the new one must not be easy
// to guess, and a refused one costs no attempt of the lockout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signInToAccount } from '../helpers/account.ts';
import { Browser, csrfToken, pageText, type Page } from '../helpers/browser.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('the account page refuses a weak new password', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '2' });
  });
  after(() => server.stop());

  it('common passwords and ones made of the address are refused with the reason, before the current password is checked', async () => {
    const person = await createUser(server, 'vera.rubin@example.test', 'galaxy rotation curves', 'Vera Rubin');
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const page = (await browser.navigate(`${server.url}/account/password`)) as Page;
    for (const [weak, why] of [
      ['iloveyou1', /commonly used/],
      ['vera.rubin1', /your name or email address/],
      ['Rubin1928', /your name or email address|guess/],
    ] as const) {
      const r = (await browser.navigate(`${server.url}/account/password`, {
        form: { csrf: csrfToken(page.html), current: 'not the password', password: weak, confirm: weak },
      })) as Page;
      assert.equal(r.status, 400, weak);
      assert.match(pageText(r.html), why);
      assert.doesNotMatch(pageText(r.html), /current password is not correct/, 'the current password was not even checked');
    }
    assert.equal((await server.runtime.signIn.password(person.email, person.password, {})).kind, 'ok', 'no lockout attempt was spent');
  });
});
