// Sign-up: REGISTRATION=open lets anyone create an account through the
// sign-up page (linked from sign-in, or prompt=create); the account exists
// only once its emailed link is used, with the password chosen on the page
// that link opens. Nobody learns from it whether an address is registered,
// and nobody can pre-install a password on someone else's address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { linkIn, startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, createUser, oidc, registerClient, submitConsent, submitLogin, type TestClient } from '../helpers/relying-party.ts';
import { startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';
import { signUpPage, submitSignUp } from '../helpers/sign-up.ts';

const fresh = () => `new-${Math.random().toString(36).slice(2)}@example.test`;

const unescapeHtml = (v: string) =>
  v
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/**
 * Opens a mailed link's page and sends its form, as the person (any
 * browser): for a sign-up, the name as the page suggests it (unless given)
 * and the password they choose.
 */
async function useLink(browser: Browser, link: string, form: { password?: string; confirm?: string; name?: string } = {}) {
  const page = (await browser.navigate(link)) as Page;
  if (page.status !== 200) return page;
  const action = formAction(page.html, new URL(link).pathname);
  const token = page.html.match(/name="token" value="([^"]+)"/)![1]!;
  const suggested = page.html.match(/name="name" type="text"[^>]*value="([^"]*)"/)?.[1];
  const fields: Record<string, string> = { csrf: csrfToken(page.html), token };
  if (page.html.includes('name="password"')) {
    fields.name = form.name ?? unescapeHtml(suggested ?? '');
    fields.password = form.password ?? PASSWORD;
    fields.confirm = form.confirm ?? fields.password;
  }
  return (await browser.navigate(new URL(action, page.url).href, { form: fields })) as Page;
}

const PASSWORD = 'orchids under glass';

describe('sign-up with REGISTRATION=open', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let client: TestClient;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ REGISTRATION: 'open', SMTP_URL: mail.url, MAIL_FROM: 'Latchkey <accounts@example.test>' });
    client = await registerClient(server, { name: 'Recipe Box' });
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  it('a new person signs up, confirms by the mailed link, and continues to the app with email_verified true', async () => {
    const email = fresh();
    const browser = new Browser(server.url);
    const { req, page } = await signUpPage(browser, client);
    assert.match(pageText(page.html), /Create an account to continue to Recipe Box/);
    assert.doesNotMatch(page.html, /type="password"/, 'the sign-up form asks for no password');
    const sent = await submitSignUp(browser, page, { email, name: 'Mary Somerville' });
    assert.equal(sent.status, 200);
    assert.match(pageText(sent.html), new RegExp(`Check your email We sent a message to ${email}`));
    assert.equal(await server.runtime.users.findByEmail(email), undefined, 'nothing exists before the link is used');

    const [message] = await mail.waitFor(email);
    assert.match(message!.subject, /Confirm your email address/);
    assert.match(message!.from, /^"?Latchkey"? <accounts@example\.test>$/);
    assert.match(message!.html, /Create my account/);
    const link = linkIn(message!, '/verify-email?token=');
    assert.ok(link.startsWith(`${server.issuer}/verify-email?token=`));

    // A mail scanner fetching the link uses nothing up.
    assert.equal((await fetch(link)).status, 200);
    // The person opens it in the same browser: the page asks for the password, the name is suggested.
    const opened = (await browser.navigate(link)) as Page;
    assert.match(pageText(opened.html), new RegExp(`Finish creating your account Your account will be ${email.replace(/[.]/g, '\\.')}`));
    assert.match(opened.html, /name="name"[^>]*value="Mary Somerville"/);
    assert.match(opened.html, /name="password" type="password" autocomplete="new-password"/);
    const done = await useLink(browser, link, { password: 'tidal mechanics of heaven' });
    assert.equal(done.status, 200);
    assert.match(pageText(done.html), /Your account is ready/);
    const user = await server.runtime.users.findByEmail(email);
    assert.equal(user?.emailVerified, true);
    assert.equal(user?.name, 'Mary Somerville');

    // "Continue" goes back to the app's sign-in, which completes as usual.
    const next = done.html.match(/class="button" href="([^"]+)"/)![1]!.replace(/&amp;/g, '&');
    assert.match(next, /^\/interaction\/[^/]+\/signin\?notice=confirmed$/);
    const signin = (await browser.navigate(new URL(next, server.url).href)) as Page;
    assert.match(pageText(signin.html), /Your email address is confirmed/);
    let step = await submitLogin(browser, signin, email, 'tidal mechanics of heaven');
    if (!('redirect' in step)) step = await submitConsent(browser, step as Page);
    assert.ok('redirect' in step);
    const tokens = await oidc.authorizationCodeGrant(client.config, new URL(step.redirect), {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    assert.equal(tokens.claims()!.email, email);
    assert.equal(tokens.claims()!.email_verified, true);
    const audit = (await server.runtime.audit.list({ userId: user!.id })).map((e) => e.type);
    assert.ok(audit.includes('signup_completed') && audit.includes('email_verified'), audit.join(' '));
  });

  it('an address that already has an account gets the same page and status, and a message either way; its password is untouched', async () => {
    const existing = await createUser(server);
    const newcomer = fresh();
    const answers: Page[] = [];
    for (const email of [existing.email, newcomer]) {
      const browser = new Browser(server.url);
      const { page } = await signUpPage(browser, client);
      answers.push(
        await submitSignUp(browser, page, {
          email,
          name: 'Someone',
          password: 'an entirely different passphrase',
          confirm: 'an entirely different passphrase',
        }),
      );
    }
    const [a, b] = answers as [Page, Page];
    assert.equal(a.status, b.status);
    const normalise = (p: Page, email: string) =>
      pageText(p.html)
        .replace(email, 'EMAIL')
        .replace(/\/interaction\/[^/"]+/g, '/interaction/UID');
    assert.equal(normalise(a, existing.email), normalise(b, newcomer), 'the two answers are the same page');

    const [toExisting] = await mail.waitFor(existing.email);
    const [toNew] = await mail.waitFor(newcomer);
    assert.match(toExisting!.subject, /already have/);
    assert.match(toExisting!.text, /\/reset-password\?token=/, 'the owner is offered a reset');
    assert.match(toNew!.subject, /Confirm/);
    assert.equal((await server.runtime.signIn.password(existing.email, existing.password, {})).kind, 'ok', 'the existing password still works');
    assert.notEqual((await server.runtime.signIn.password(existing.email, 'an entirely different passphrase', {})).kind, 'ok');
  });

  it(
    "a weak or common password is refused on the link's page with the reason, " + 'without spending the link; the name comes back, the passwords do not',
    async () => {
      const email = fresh();
      const browser = new Browser(server.url);
      const { page } = await signUpPage(browser, client);
      await submitSignUp(browser, page, { email, name: 'Ada Byron' });
      const link = linkIn((await mail.waitFor(email))[0]!, '/verify-email?token=');
      for (const [password, why] of [
        ['password1', /commonly used password/],
        ['qwertyuiop', /frequently used|common/],
        ['short', /at least 8 characters/],
        ['Ada Byron 1', /your name or email address/],
        [email, /your name or email address/],
      ] as const) {
        const refused = await useLink(browser, link, { password, name: 'Ada Byron' });
        assert.equal(refused.status, 400, password);
        assert.match(pageText(refused.html), why, password);
        assert.match(refused.html, /name="name"[^>]*value="Ada Byron"/);
        assert.doesNotMatch(refused.html, /name="(password|confirm)"[^>]*value=/, 'passwords are not echoed');
        if (password !== email) assert.ok(!refused.html.includes(password), 'passwords are not echoed');
      }
      const mismatch = await useLink(browser, link, { password: 'a perfectly good passphrase', confirm: 'another one entirely' });
      assert.equal(mismatch.status, 400);
      assert.match(pageText(mismatch.html), /do not match/);
      assert.equal(await server.runtime.users.findByEmail(email), undefined, 'nothing was created');
      const done = await useLink(browser, link, { password: 'a perfectly good passphrase' });
      assert.equal(done.status, 200, 'the link still works');
      assert.match(pageText(done.html), /Your account is ready/);
    },
  );

  it(
    "pre-hijacking: an attacker signs up with the victim's address and a password they know; " +
      "the victim confirms with their own; the attacker's never works",
    async () => {
      const victim = fresh();
      const attackerPassword = 'mallory knows this one';
      // The attacker scripts the form, sending a password as the old form took one.
      const attacker = new Browser(server.url);
      const { page } = await signUpPage(attacker, client);
      const sent = await submitSignUp(attacker, page, { email: victim, name: 'Mallory', password: attackerPassword, confirm: attackerPassword });
      assert.equal(sent.status, 200);
      const rows = await server.runtime.db.linkToken.findMany({ where: { email: victim } });
      assert.ok(
        rows.length === 1 && !String(rows[0]!.data).includes('passwordHash') && !String(rows[0]!.data).includes(attackerPassword),
        'no password is stored with the link',
      );

      // The victim gets the message, opens the link and chooses their own password and name.
      const link = linkIn((await mail.waitFor(victim))[0]!, '/verify-email?token=');
      const done = await useLink(new Browser(server.url), link, { password: 'the victims own passphrase', name: 'Victoria' });
      assert.equal(done.status, 200);
      assert.notEqual((await server.runtime.signIn.password(victim, attackerPassword, {})).kind, 'ok', "the attacker's password does not open the account");
      assert.equal((await server.runtime.signIn.password(victim, 'the victims own passphrase', {})).kind, 'ok');
      assert.equal((await server.runtime.users.findByEmail(victim))?.name, 'Victoria');
      // Nor through the sign-in page, and signing up again changes nothing.
      const login = (await attacker.navigate((await authRequest(client)).url.href)) as Page;
      const tried = (await submitLogin(attacker, login, victim, attackerPassword)) as Page;
      assert.equal(tried.status, 401);
      assert.doesNotMatch(tried.html, /\/confirm"/);
      const { page: again } = await signUpPage(new Browser(server.url), client);
      await submitSignUp(new Browser(server.url), again, { email: victim, password: attackerPassword, confirm: attackerPassword });
      assert.notEqual((await server.runtime.signIn.password(victim, attackerPassword, {})).kind, 'ok');
    },
  );

  it('a sign-up link sent while REGISTRATION=open creates nothing once sign-up is turned off (403); the page says why', async () => {
    const email = fresh();
    const browser = new Browser(server.url);
    const { page } = await signUpPage(browser, client);
    await submitSignUp(browser, page, { email });
    const link = linkIn((await mail.waitFor(email))[0]!, '/verify-email?token=');
    const token = new URL(link).searchParams.get('token')!;
    for (const mode of ['invite', 'off']) {
      const closed = await startSecondNode(server, { REGISTRATION: mode });
      try {
        const person = new Browser([server.url, closed.url]);
        const opened = (await person.navigate(link)) as Page;
        const refused = (await person.navigate(link.replace(server.issuer, closed.url))) as Page;
        assert.equal(refused.status, 403, mode);
        assert.match(pageText(refused.html), /New accounts cannot be created here any more/, mode);
        const posted = (await person.navigate(`${closed.url}/verify-email`, {
          form: { csrf: csrfToken(opened.html), token, name: '', password: PASSWORD, confirm: PASSWORD },
        })) as Page;
        assert.equal(posted.status, 403, mode);
        assert.equal(await server.runtime.users.findByEmail(email), undefined, mode);
      } finally {
        await closed.stop();
      }
    }
    assert.equal((await useLink(new Browser(server.url), link)).status, 200, 'while open, the link still works');
  });

  it('an address that would reach another mailbox (a list, a display name, a line break) is refused, and nothing is sent', async () => {
    const before = mail.recipients.length;
    for (const email of [
      'victim,attacker@evil.test',
      'attacker@evil.test,corp.example',
      'Victim <attacker@evil.test>',
      'x<attacker@evil.test>',
      'attacker@evil.test;corp.example',
      'a"b@evil.test',
    ]) {
      const browser = new Browser(server.url);
      const { page } = await signUpPage(browser, client);
      const refused = await submitSignUp(browser, page, { email, name: 'Eve' });
      assert.equal(refused.status, 400, email);
      assert.match(pageText(refused.html), /Enter an email address/, email);
    }
    await mail.settle('attacker@evil.test', 300);
    assert.deepEqual(mail.recipients.slice(before), [], 'no message went anywhere');
    assert.equal(await server.runtime.db.linkToken.count({ where: { email: { contains: 'evil.test' } } }), 0);
  });

  it('a sign-up cannot put its own words into mail to someone else: the name stays out of the message, and line breaks are refused', async () => {
    const target = fresh();
    const browser = new Browser(server.url);
    const { page } = await signUpPage(browser, client);
    const sent = await submitSignUp(browser, page, { email: target, name: 'You won! Claim at https://evil.test/prize' });
    assert.equal(sent.status, 200);
    const [message] = await mail.waitFor(target);
    assert.doesNotMatch(message!.text + message!.html, /evil\.test|You won/);

    const other = fresh();
    const again = await signUpPage(browser, client);
    const refused = await submitSignUp(browser, again.page, { email: other, name: 'Eve\r\nBcc: attacker@evil.test' });
    assert.equal(refused.status, 400);
    assert.match(pageText(refused.html), /name/i);
    assert.equal((await mail.settle(other, 300)).length, 0);
  });

  it('a confirmation link works once: tampered, used twice, raced, expired', async () => {
    const email = fresh();
    const browser = new Browser(server.url);
    const { page } = await signUpPage(browser, client);
    await submitSignUp(browser, page, { email });
    const link = linkIn((await mail.waitFor(email))[0]!, '/verify-email?token=');
    const token = new URL(link).searchParams.get('token')!;

    const tampered = new URL(link);
    tampered.searchParams.set('token', `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`);
    const bad = (await new Browser(server.url).navigate(tampered.href)) as Page;
    assert.equal(bad.status, 400);
    assert.match(pageText(bad.html), /This link is not valid/);

    // Twenty browsers open the page, then press the button at once: one account, one success.
    const page2 = (await new Browser(server.url).navigate(link)) as Page;
    const opened = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const b = new Browser(server.url);
        return { b, p: (await b.navigate(link)) as Page };
      }),
    );
    const racers = await Promise.all(
      opened.map(
        ({ b, p }) =>
          b.navigate(`${server.url}/verify-email`, {
            form: { csrf: csrfToken(p.html), token, name: '', password: PASSWORD, confirm: PASSWORD },
          }) as Promise<Page>,
      ),
    );
    assert.equal(racers.filter((r) => r.status === 200).length, 1, racers.map((r) => r.status).join(','));
    assert.equal(await server.runtime.db.user.count({ where: { email } }), 1);
    const again = (await new Browser(server.url).navigate(`${server.url}/verify-email`, {
      form: { csrf: csrfToken(page2.html), token, name: '', password: PASSWORD, confirm: PASSWORD },
    })) as Page;
    assert.equal(again.status, 403, 'the csrf cookie belongs to the other browser');
    const used = await useLink(new Browser(server.url), link);
    assert.equal(used.status, 400);
    assert.match(pageText(used.html), /already used/);

    const late = fresh();
    const { page: p3 } = await signUpPage(browser, client);
    await submitSignUp(browser, p3, { email: late });
    const lateLink = linkIn((await mail.waitFor(late))[0]!, '/verify-email?token=');
    await server.runtime.db.linkToken.updateMany({ where: { email: late }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = (await new Browser(server.url).navigate(lateLink)) as Page;
    assert.equal(expired.status, 400);
    assert.match(pageText(expired.html), /expired/);
    assert.equal(await server.runtime.users.findByEmail(late), undefined);
  });

  it('links are stored only as keyed hashes, and no log line holds one', async () => {
    const email = fresh();
    const browser = new Browser(server.url);
    const { page } = await signUpPage(browser, client);
    await submitSignUp(browser, page, { email });
    const token = new URL(linkIn((await mail.waitFor(email))[0]!, '/verify-email?token=')).searchParams.get('token')!;
    await useLink(browser, `${server.issuer}/verify-email?token=${token}`);
    const rows = await server.runtime.db.linkToken.findMany({ where: { email } });
    assert.ok(rows.length >= 1 && rows.every((r) => r.id !== token && !String(r.data).includes(token)));
    assert.ok(!server.logs.some((l) => l.includes(token)), 'the token is in no log line');
  });

  it('prompt=create takes the person straight to the sign-up page, and discovery says so', async () => {
    const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { prompt_values_supported: string[] };
    assert.ok(meta.prompt_values_supported.includes('create'));
    const browser = new Browser(server.url);
    const page = (await browser.navigate((await authRequest(client, { prompt: 'create' })).url.href)) as Page;
    assert.match(pageText(page.html), /Create an account/);
    assert.match(page.html, /action="[^"]*\/signup"/);
    assert.match(page.html, /href="[^"]*\/signin"/, 'with a way to sign in instead');
  });

  it('the landing page offers to sign in and to create an account; signed in, it is the account page', async () => {
    const landing = (await new Browser(server.url).navigate(`${server.url}/`)) as Page;
    assert.equal(landing.status, 200);
    assert.match(landing.html, /href="\/account"/);
    assert.match(landing.html, /href="\/signup"/);
    const browser = new Browser(server.url);
    const signUp = (await browser.navigate(`${server.url}/signup`)) as Page;
    // Latchkey's own account page is no app to continue to: the page just offers the account.
    assert.match(pageText(signUp.html), /Create an account/);
    assert.doesNotMatch(pageText(signUp.html), /continue to/);
  });
});

describe('sign-up with REGISTRATION=invite or off', () => {
  for (const mode of ['invite', 'off']) {
    it(`${mode}: no sign-up page, no link to it, and prompt=create is refused`, async () => {
      const server = await startTestServer({ REGISTRATION: mode });
      try {
        const client = await registerClient(server);
        const browser = new Browser(server.url);
        const login = (await browser.navigate((await authRequest(client)).url.href)) as Page;
        assert.doesNotMatch(login.html, /\/signup"/);
        const uid = login.url.match(/\/interaction\/([^/?]+)/)![1]!;
        const page = (await browser.navigate(`${server.url}/interaction/${uid}/signup`)) as Page;
        assert.equal(page.status, 404);
        const post = (await browser.navigate(`${server.url}/interaction/${uid}/signup`, {
          form: { csrf: csrfToken(login.html), email: 'x@example.test', password: 'a perfectly good passphrase', confirm: 'a perfectly good passphrase' },
        })) as Page;
        assert.equal(post.status, 404);
        assert.equal(await server.runtime.db.linkToken.count(), 0);
        const create = await browser.navigate((await authRequest(client, { prompt: 'create' })).url.href);
        assert.ok('redirect' in create);
        assert.equal(new URL(create.redirect).searchParams.get('error'), 'invalid_request');
        assert.equal(((await browser.navigate(`${server.url}/signup`)) as Page).status, 404);
        assert.doesNotMatch(((await browser.navigate(`${server.url}/`)) as Page).html, /\/signup/);
      } finally {
        await server.stop();
      }
    });
  }
});

describe('mail-sending forms are rate-limited', () => {
  let server: TestServer;
  let mail: MailCatcher;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ REGISTRATION: 'open', SMTP_URL: mail.url, RATE_LIMIT_EMAIL: '3/60' });
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  it('per address: the fourth sign-up post in a window gets a 429 page; per recipient: no more than three messages', async () => {
    const client = await registerClient(server);
    const victim = fresh();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const browser = new Browser(server.url);
      const { page } = await signUpPage(browser, client);
      statuses.push((await submitSignUp(browser, page, { email: victim })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal((await mail.settle(victim)).length, 3);
  });
});
