// TOTP, recovery codes and the second-factor sign-in step, over HTTP.
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, submitLogin, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, stopClockMidStep, type TestServer } from '../helpers/server.ts';
import { totp as totpAt } from '../helpers/totp.ts';
import { normalizeRecoveryCode } from '../../src/services/factors/second-factor.ts';
import { getOrCreateSecret } from '../../src/services/secrets/server-secrets.ts';
import { accountCsrf, enrollFromAccount, enrollmentToken, signInToAccount } from '../helpers/account.ts';

describe('two-step verification (TOTP and recovery codes)', () => {
  let server: TestServer;
  let client: TestClient;

  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '50' });
    // Codes are computed on the server's clock, stopped mid-step: no step boundary falls between a code and its check.
    stopClockMidStep(server);
    client = await registerClient(server, { name: 'Payroll' });
  });
  after(() => server.stop());
  const totp = (secret: string, steps = 0) => totpAt(secret, steps, server.runtime.clock.now());

  async function enrolledPerson() {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const { secret, codes } = await enrollFromAccount(browser, server, person.password);
    return { ...person, secret, codes };
  }

  /** Password then code through the client's flow; returns the final step. */
  async function loginWithCode(person: { email: string; password: string }, code: string, params: Record<string, string> = {}) {
    const browser = new Browser(server.url);
    const req = await authRequest(client, params);
    const login = (await browser.navigate(req.url.href)) as Page;
    const codePage = (await submitLogin(browser, login, person.email, person.password)) as Page;
    assert.match(codePage.html, /autocomplete="one-time-code"/);
    assert.match(codePage.html, /inputmode="numeric"/);
    assert.match(codePage.html, /name="code"/);
    const out = await browser.navigate(new URL(formAction(codePage.html, '/code'), codePage.url).href, { form: { csrf: csrfToken(codePage.html), code } });
    return { out, req, browser };
  }

  async function consentAndTokens(browser: Browser, out: Awaited<ReturnType<Browser['navigate']>>, req: Awaited<ReturnType<typeof authRequest>>) {
    if (!('redirect' in out)) out = await browser.navigate(new URL(formAction(out.html, '/confirm'), out.url).href, { form: { csrf: csrfToken(out.html) } });
    assert.ok('redirect' in out);
    return oidc.authorizationCodeGrant(client.config, new URL(out.redirect), {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
  }

  it('after enrolment a sign-in needs the code; the ID token says amr pwd+otp and the two-factor acr', async () => {
    const person = await enrolledPerson();
    // The enrolment used the current step; the next step's code is within the allowed drift.
    const { out, req, browser } = await loginWithCode(person, totp(person.secret, 1));
    const tokens = await consentAndTokens(browser, out, req);
    const claims = tokens.claims()!;
    assert.deepEqual(claims.amr, ['pwd', 'otp']);
    assert.equal(claims.acr, 'urn:latchkey:acr:mfa');
    const stored = await server.runtime.db.user.findUnique({ where: { id: person.id } });
    assert.ok(stored?.totpSecretEnc?.startsWith('v1.'), 'TOTP secret encrypted at rest');
    assert.ok(!stored?.totpSecretEnc?.includes(person.secret));
  });

  it('a password-only person gets amr pwd and the one-factor acr', async () => {
    const person = await createUser(server);
    const { tokens } = await codeFlow(client, new Browser(server.url), person);
    assert.deepEqual(tokens.claims()!.amr, ['pwd']);
    assert.equal(tokens.claims()!.acr, 'urn:latchkey:acr:pwd');
  });

  it('a code that was already accepted is refused (replay)', async () => {
    const person = await enrolledPerson();
    const code = totp(person.secret, 1);
    const first = await loginWithCode(person, code);
    assert.ok('redirect' in first.out || (first.out as Page).html.includes('/confirm"'), 'first use accepted');
    const second = await loginWithCode(person, code);
    const page = second.out as Page;
    assert.equal(page.status, 401);
    assert.match(pageText(page.html), /That code is not correct, or was already used/);
  });

  it('one step of clock drift either way is accepted; two steps are not', async () => {
    const late = await enrolledPerson();
    // Enrolment accepted the current step, which rightly blocks every earlier one;
    // forget it so that the one-step-behind window itself is what is tested.
    await server.runtime.db.user.update({ where: { id: late.id }, data: { totpLastStep: null } });
    const behind = await loginWithCode(late, totp(late.secret, -1));
    assert.ok(!('status' in behind.out) || (behind.out as Page).status !== 401, 'one step behind accepted');

    const ahead = await enrolledPerson();
    const okAhead = await loginWithCode(ahead, totp(ahead.secret, 1));
    assert.ok(!('status' in okAhead.out) || (okAhead.out as Page).status !== 401, 'one step ahead accepted');

    const far = await enrolledPerson();
    for (const steps of [-2, 2, 3]) {
      const r = await loginWithCode(far, totp(far.secret, steps));
      assert.equal((r.out as Page).status, 401, `${steps} steps refused`);
    }
  });

  it('a recovery code works once where a code is asked for; regenerating invalidates the old set', async () => {
    const person = await enrolledPerson();
    const ok = await loginWithCode(person, person.codes[0]!.toLowerCase());
    const tokens = await consentAndTokens(ok.browser, ok.out, ok.req);
    // Not `otp`: a relying party that requires an authenticator can tell.
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'recovery_code']);
    assert.equal(tokens.claims()!.acr, 'urn:latchkey:acr:mfa');
    const again = await loginWithCode(person, person.codes[0]!);
    assert.equal((again.out as Page).status, 401, 'single use');
    const [event] = await server.runtime.audit.list({ userId: person.id, limit: 20 }).then((e) => e.filter((x) => x.type === 'recovery_code_used'));
    assert.ok(event, 'recovery code use audited');

    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password, () => person.codes[1]!);
    const regenerated = (await browser.navigate(`${server.url}/account/recovery-codes`, {
      form: { csrf: await accountCsrf(browser, server), password: person.password, code: totp(person.secret, 1) },
    })) as Page;
    const fresh = [...regenerated.html.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((m) => m[1]!);
    assert.equal(fresh.length, 10);
    const old = await loginWithCode(person, person.codes[2]!);
    assert.equal((old.out as Page).status, 401, 'old set invalid');
    const stored = await server.runtime.db.recoveryCode.findMany({ where: { userId: person.id } });
    assert.ok(
      stored.every((r) => !fresh.some((c) => r.codeHash.includes(c))),
      'stored as hashes',
    );
    const viaNew = await loginWithCode(person, fresh[0]!);
    assert.ok('redirect' in viaNew.out || (viaNew.out as Page).html.includes('/confirm"'));
  });

  it('recovery codes are ten typeable XXXXX-XXXXX-XXXXX codes (75 bits), accepted with or without dashes, in any case, with spaces', async () => {
    const person = await enrolledPerson();
    assert.equal(person.codes.length, 10);
    for (const code of person.codes) assert.match(code, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    assert.equal(new Set(person.codes).size, 10);
    const typed = [
      person.codes[0]!.replace(/-/g, ''),
      person.codes[1]!.toLowerCase(),
      ` ${person.codes[2]!.toLowerCase().replace(/-/g, ' ')} `,
      person.codes[3]!.toLowerCase().replace(/-/g, '').replace(/0/g, 'o').replace(/1/g, 'l'),
    ];
    for (const code of typed) {
      const out = await loginWithCode(person, code);
      assert.ok('redirect' in out.out || (out.out as Page).html.includes('/confirm"'), `accepted as typed: "${code}"`);
    }
    // A code one character off, or a TOTP-shaped guess, is not.
    const wrong = person.codes[4]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal(((await loginWithCode(person, wrong)).out as Page).status, 401);
    assert.equal(await server.runtime.secondFactor.remainingRecoveryCodes(person.id), 6);
  });

  it('recovery codes of the old format (52 characters, groups of four) still work once, as printed or in lower case', async () => {
    const person = await enrolledPerson();
    // What the account page printed before issue 12: base32 of 256 random bits in groups of four.
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const legacy = () =>
      Array.from(randomBytes(52), (b) => alphabet[b % 32])
        .join('')
        .match(/.{4}/g)!
        .join('-');
    const old = [legacy(), legacy()];
    const key = Buffer.from(await getOrCreateSecret(server.runtime.db, server.runtime.box, 'recovery-code-hmac-key'), 'base64url');
    await server.runtime.db.recoveryCode.createMany({
      data: old.map((c) => ({ id: randomUUID(), userId: person.id, codeHash: createHmac('sha256', key).update(normalizeRecoveryCode(c)).digest('base64url') })),
    });
    for (const code of [old[0]!, old[1]!.toLowerCase()]) {
      const out = await loginWithCode(person, code);
      assert.ok('redirect' in out.out || (out.out as Page).html.includes('/confirm"'), `accepted: "${code}"`);
    }
    assert.equal(((await loginWithCode(person, old[0]!)).out as Page).status, 401, 'each works once');
  });

  it('acr_values asking for two factors sends a person without TOTP through enrolment first', async () => {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    const req = await authRequest(client, { acr_values: 'urn:latchkey:acr:mfa' });
    const login = (await browser.navigate(req.url.href)) as Page;
    const enroll = (await submitLogin(browser, login, person.email, person.password)) as Page;
    assert.match(pageText(enroll.html), /Set up two-step verification/);
    const secret = enroll.html.match(/id="totp-secret">([A-Z2-7]+)</)![1]!;
    const wrong = (await browser.navigate(new URL(formAction(enroll.html, '/enroll'), enroll.url).href, {
      form: { csrf: csrfToken(enroll.html), enrollment: enrollmentToken(enroll.html), code: '000000' },
    })) as Page;
    assert.equal(wrong.status, 401);
    assert.equal(wrong.html.match(/id="totp-secret">([A-Z2-7]+)</)![1], secret, 'the same secret is shown again');
    const codes = (await browser.navigate(new URL(formAction(wrong.html, '/enroll'), wrong.url).href, {
      form: { csrf: csrfToken(wrong.html), enrollment: enrollmentToken(wrong.html), code: totp(secret) },
    })) as Page;
    assert.match(pageText(codes.html), /Save your recovery codes/);
    const out = await browser.navigate(new URL(formAction(codes.html, '/continue'), codes.url).href, { form: { csrf: csrfToken(codes.html) } });
    const tokens = await consentAndTokens(browser, out, req);
    assert.equal(tokens.claims()!.acr, 'urn:latchkey:acr:mfa');
  });

  it('a client that requires MFA steps up a password-only session: only the code is asked, not the password', async () => {
    const strict = await registerClient(server, { name: 'Treasury' });
    await server.runtime.clients.update(strict.clientId, { requireMfa: true });
    // Enrolled, but this browser's session was made without the code: enrol in one browser, sign in with a
    // password-only session in another by resetting the factor, signing in, then enrolling again.
    const person = await createUser(server);
    const browser = new Browser(server.url);
    const first = await codeFlow(client, browser, person);
    assert.equal(first.tokens.claims()!.acr, 'urn:latchkey:acr:pwd');
    const other = new Browser(server.url);
    await signInToAccount(other, server, person.email, person.password);
    const { secret } = await enrollFromAccount(other, server, person.password);

    const req = await authRequest(strict);
    const page = (await browser.navigate(req.url.href)) as Page;
    assert.doesNotMatch(page.html, /name="password"/, 'no password asked again');
    assert.match(pageText(page.html), /Two-step verification/);
    const out = await browser.navigate(new URL(formAction(page.html, '/code'), page.url).href, { form: { csrf: csrfToken(page.html), code: totp(secret, 1) } });
    const tokens = await (async () => {
      let step = out;
      if (!('redirect' in step))
        step = await browser.navigate(new URL(formAction(step.html, '/confirm'), step.url).href, { form: { csrf: csrfToken(step.html) } });
      assert.ok('redirect' in step);
      return oidc.authorizationCodeGrant(strict.config, new URL(step.redirect), {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
    })();
    assert.equal(tokens.claims()!.acr, 'urn:latchkey:acr:mfa');
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp']);
    assert.equal(decodeJwt(tokens.id_token!).sub, person.id);
  });
});
