// The device authorization grant (RFC 8628): openid-client's device-flow
// functions on the device, a person approving in Chromium (signing in with
// their second factor), and the page and polling rules an attacker would
// test: wrong codes, guessing, forged posts, polling too fast.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Browser as Chromium } from 'playwright-core';
import { Browser, pageText, type Page } from '../helpers/browser.ts';
import { ARTIFACTS, launchChromium } from '../helpers/chromium.ts';
import { createUser, discover, oidc, registerClient, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { totp } from '../helpers/totp.ts';
import { DEVICE_CODE_GRANT } from '../../src/config/env.ts';

const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

describe('device authorization grant (RFC 8628)', () => {
  let server: TestServer;
  let chromium: Chromium;
  let config: oidc.Configuration;
  let clientId: string;
  let person: TestPerson & { secret: string };
  let offset = 0;

  before(async () => {
    server = await startTestServer({ DEVICE_POLL_INTERVAL: '1', RATE_LIMIT_DEVICE: '5/60' });
    server.runtime.clock.now = () => Date.now() + offset;
    const { client } = await server.runtime.clients.create({ name: 'Latchkey TV', redirectUris: [], public: true, deviceFlow: true });
    clientId = client.clientId;
    config = await discover(server, clientId);
    const user = await createUser(server, 'grace@example.test', 'compilers are for people', 'Grace Hopper');
    // An authenticator app, enrolled a step ago so that this step's code is new to the server.
    const enrollment = await server.runtime.secondFactor.beginEnrollment(user.id);
    const before = Date.now() - 30_000;
    const clock = server.runtime.clock;
    const realNow = clock.now;
    clock.now = () => before;
    try {
      assert.ok(await server.runtime.secondFactor.confirmEnrollment(user.id, enrollment.token, totp(enrollment.secret, 0, before)));
    } finally {
      clock.now = realNow;
    }
    person = { ...user, secret: enrollment.secret };
    chromium = await launchChromium();
  });
  beforeEach(async () => {
    offset = 0;
    server.runtime.clock.now = () => Date.now() + offset;
    // The page's budget is per address, and every test here comes from 127.0.0.1.
    await server.runtime.db.rateLimit.deleteMany({ where: { key: { startsWith: 'ip:device' } } });
  });
  after(async () => {
    await chromium?.close();
    await server?.stop();
  });

  const deviceToken = (deviceCode: string) =>
    fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: clientId }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));

  /** The page's form fields, and a post of them with what a person would type. */
  async function typeCode(browser: Browser, code: string, extra: Record<string, string> = {}): Promise<Page> {
    const form = await browser.page(`${server.url}/device`);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form.html)![1]!;
    return browser.page(`${server.url}/device`, { form: { xsrf, user_code: code, ...extra } });
  }

  it('openid-client gets tokens once the person types the code, signs in with their second factor and approves in Chromium', async () => {
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid email offline_access' });
    assert.match(started.user_code, USER_CODE, 'twelve typeable characters in groups of four');
    assert.equal(started.verification_uri, `${server.issuer}/device`);
    assert.equal(started.interval, 1);
    assert.ok(started.expires_in <= 600 && started.expires_in > 590);
    const polling = oidc.pollDeviceAuthorizationGrant(config, started);

    const page = await chromium.newPage({ viewport: { width: 390, height: 800 } });
    await page.goto(started.verification_uri);
    assert.equal(await page.title(), 'Connect a device · Latchkey');
    const input = page.getByLabel('Code');
    assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
    // Typed as people type it: lower case, spaces for dashes.
    await input.fill(started.user_code.toLowerCase().replace(/-/g, ' '));
    await page.screenshot({ path: join(ARTIFACTS, 'device-code.png'), fullPage: true });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Connect Latchkey TV?');
    assert.match(await page.locator('body').innerText(), new RegExp(started.user_code), 'the code to compare with the device');
    assert.match(await page.locator('body').innerText(), /See your email address/);
    await page.screenshot({ path: join(ARTIFACTS, 'device-confirm.png'), fullPage: true });
    await page.getByRole('button', { name: /Yes, it is my device/ }).click();

    await page.waitForURL(/\/interaction\//);
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    await page.getByLabel('Verification code').fill(totp(person.secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState();
    // What the device asks, approved by hand.
    assert.match(await page.locator('body').innerText(), /Latchkey TV/);
    await page.screenshot({ path: join(ARTIFACTS, 'device-approve.png'), fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForLoadState();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Your device is connected');
    await page.close();

    const tokens = await polling;
    const claims = tokens.claims()!;
    assert.equal(claims.sub, person.id);
    assert.equal(claims.email, person.email);
    assert.deepEqual([...(claims.amr as string[])].sort(), ['otp', 'pwd']);
    assert.ok(tokens.refresh_token, 'offline_access for a device that asked');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token);

    // The same code cannot be used twice.
    const again = await typeCode(new Browser(server.url), started.user_code);
    assert.equal(again.status, 400);
    assert.match(pageText(again.html), /already used|not right/);
  });

  it('a device polling faster than its interval gets slow_down; on the server clock, waiting the interval is enough', async () => {
    // Stopped between the moves below: a slow machine must not pass the interval for the burst.
    const stopped = Date.now();
    server.runtime.clock.now = () => stopped + offset;
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const first = await deviceToken(started.device_code);
    assert.equal(first.body.error, 'authorization_pending');
    const fast = await deviceToken(started.device_code);
    assert.equal(fast.status, 400);
    assert.equal(fast.body.error, 'slow_down');
    // Ten parallel polls: at most one is not told to slow down.
    offset += 1_000;
    const burst = await Promise.all(Array.from({ length: 10 }, () => deviceToken(started.device_code)));
    assert.equal(burst.filter((r) => r.body.error === 'authorization_pending').length, 1, JSON.stringify(burst.map((r) => r.body.error)));
    assert.equal(burst.filter((r) => r.body.error === 'slow_down').length, 9);
    offset += 1_000;
    assert.equal((await deviceToken(started.device_code)).body.error, 'authorization_pending');
    // A guessed device code is no code: invalid_grant every time, and nothing stored for it.
    const markers = await server.runtime.db.oidcPayload.count({ where: { type: 'DevicePoll' } });
    for (let i = 0; i < 3; i++) assert.equal((await deviceToken(`guess-${i}`)).body.error, 'invalid_grant');
    assert.equal(await server.runtime.db.oidcPayload.count({ where: { type: 'DevicePoll' } }), markers);
  });

  it("a device code past its lifetime gets expired_token, and nothing once it is gone (oidc-provider's own clock moved)", async (t) => {
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    // oidc-provider reads Date itself (src/clock.ts): the test moves Date, and only Date, past the code's expiry.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + (started.expires_in + 1) * 1000 });
    try {
      const late = await deviceToken(started.device_code);
      assert.equal(late.status, 400);
      assert.equal(late.body.error, 'expired_token', JSON.stringify(late.body));
      // Nor can the person still approve it: the code they would type is gone.
      const typed = await typeCode(new Browser(server.url), started.user_code);
      assert.equal(typed.status, 400);
      assert.match(pageText(typed.html), /That code has expired\. Start again on your device/);
    } finally {
      t.mock.timers.reset();
    }
  });

  it('a wrong code is refused with the code kept and the error tied to the field', async () => {
    const page = await typeCode(new Browser(server.url), 'BCDF-GHJK-LMNP');
    assert.equal(page.status, 400);
    assert.match(page.html, /role="alert" id="user-code-problem">That code is not right/);
    assert.match(page.html, /aria-describedby="user-code-problem user-code-hint" aria-invalid="true"/);
    assert.match(page.html, /value="BCDF-GHJK-LMNP"/);
    assert.match(page.html, /<label for="user_code">Code<\/label>/);
  });

  it("a post without the page's own xsrf value (from another site) is refused", async () => {
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const browser = new Browser(server.url);
    await browser.page(`${server.url}/device`);
    for (const xsrf of [undefined, 'forged']) {
      const page = await browser.page(`${server.url}/device`, { form: { user_code: started.user_code, ...(xsrf ? { xsrf } : {}) } });
      assert.doesNotMatch(page.html, /Connect Latchkey TV\?/);
      assert.match(pageText(page.html), /This page has expired/);
    }
    // And a stranger's browser without the session gets no further either.
    const stranger = await new Browser(server.url).page(`${server.url}/device`, { form: { user_code: started.user_code, xsrf: 'x' } });
    assert.doesNotMatch(stranger.html, /Connect Latchkey TV\?/);
  });

  it('user codes are stored only as a keyed hash, and a cancelled confirmation gives the device access_denied', async () => {
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const rows = await server.runtime.db.oidcPayload.findMany({ where: { type: 'DeviceCode' } });
    const normalized = started.user_code.replace(/-/g, '');
    for (const row of rows) {
      assert.ok(!row.payload.includes(normalized) && !row.payload.includes(started.user_code), 'no user code in a payload');
      assert.ok(!row.payload.includes(started.device_code), 'the device code only sealed');
      assert.notEqual(row.userCode, normalized);
    }
    const browser = new Browser(server.url);
    const confirm = await typeCode(browser, started.user_code);
    assert.match(pageText(confirm.html), /Connect Latchkey TV\?/);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
    await browser.navigate(`${server.url}/device`, { form: { xsrf, user_code: started.user_code, abort: 'yes' } });
    assert.equal((await deviceToken(started.device_code)).body.error, 'access_denied');
  });

  it('remembered consent is not enough: every device is approved by hand', async () => {
    // Ada approved this app before (through the device flow); a second device still asks her.
    const browser = new Browser(server.url);
    for (let round = 0; round < 2; round++) {
      const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
      const confirm = await typeCode(browser, started.user_code);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
      let step = await browser.navigate(`${server.url}/device`, { form: { xsrf, user_code: started.user_code, confirm: 'yes' } });
      if (round === 0) {
        const login = step as Page;
        const csrf = /name="csrf" value="([^"]+)"/.exec(login.html)![1]!;
        const action = /action="([^"]*\/login)"/.exec(login.html)![1]!;
        step = await browser.navigate(new URL(action, login.url).href, { form: { csrf, email: person.email, password: person.password } });
        const code = step as Page;
        const codeAction = /action="([^"]*\/code)"/.exec(code.html)![1]!;
        step = await browser.navigate(new URL(codeAction, code.url).href, {
          form: { csrf: /name="csrf" value="([^"]+)"/.exec(code.html)![1]!, code: totp(person.secret, 1) },
        });
      }
      const consent = step as Page;
      assert.match(consent.html, /action="[^"]*\/confirm"/, `round ${round}: the approval page`);
      const done = (await browser.navigate(new URL(/action="([^"]*\/confirm)"/.exec(consent.html)![1]!, consent.url).href, {
        form: { csrf: /name="csrf" value="([^"]+)"/.exec(consent.html)![1]! },
      })) as Page;
      assert.match(pageText(done.html), /Your device is connected/);
      offset += 1_000;
      assert.ok((await deviceToken(started.device_code)).body.access_token);
    }
  });

  it('a client not registered with --device-flow is refused at the device authorization endpoint', async () => {
    const web = await registerClient(server, { name: 'Web only' });
    await assert.rejects(oidc.initiateDeviceAuthorization(web.config, { scope: 'openid' }), (err: Error & { error?: string }) => {
      // oidc-provider's answer (RFC 8628 §3.2 leaves the code to RFC 6749): it names the grant.
      assert.equal(err.error, 'invalid_request');
      assert.match(String((err as { error_description?: string }).error_description), /device_code is not allowed for this client/);
      return true;
    });
  });

  // Last: a node that has refused an address refuses it from memory until the
  // window ends, whatever the store says (the tests before start each from an
  // empty store).
  it('guessing codes is limited per address on every node (RATE_LIMIT_DEVICE)', async () => {
    const browser = new Browser(server.url);
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await typeCode(browser, `BCDF-GHJK-LM${'BCDFG'[i]}P`)).status);
    assert.deepEqual(statuses, [400, 400, 400, 400, 400]);
    // The sixth post is refused before the code is even looked at, the right code too.
    const refused = await typeCode(browser, started.user_code);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.match(pageText(refused.html), /Too many attempts/);
  });
});
