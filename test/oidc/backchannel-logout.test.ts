// OpenID Connect Back-Channel Logout 1.0: when a person's session ends, each
// app signed in through it that registered a back-channel logout URI gets a
// logout token signed by Latchkey — after RP-initiated logout and after
// sign-out everywhere — sent off the request path (an app that hangs does not
// hold the person's logout), retried after a failure, the failure audited.
// What is owed is kept in the database: a session ended by the CLI (another
// process) is told by the server, and a retry outlives the server that owed it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { RETRY_DELAYS_MS } from '../../src/oidc/backchannel-logout.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { adminCli } from '../helpers/cli.ts';
import { codeFlow, createUser, discover, oidc, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import { advanceClock, startTestServer, type TestServer } from '../helpers/server.ts';

interface Delivery {
  logoutToken: string;
  /** Latchkey gave up on the post (closed it) before the app answered. */
  abandoned(): boolean;
  /** Answer the post (the receiver holds it until then). */
  answer(status: number): void;
}

/** A relying party's back-channel logout endpoint: every post waits in a queue for the test to answer it. */
class Receiver {
  server!: Server;
  url!: string;
  private waiting: Array<(d: Delivery) => void> = [];
  private queued: Delivery[] = [];

  async start() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => (body += String(c)));
      req.on('end', () => {
        let answered = false;
        let closed = false;
        res.on('close', () => (closed = !answered));
        const delivery: Delivery = {
          logoutToken: new URLSearchParams(body).get('logout_token') ?? '',
          abandoned: () => closed,
          answer: (status) => {
            answered = true;
            res.writeHead(status, { 'cache-control': 'no-store' }).end();
          },
        };
        const waiter = this.waiting.shift();
        if (waiter) waiter(delivery);
        else this.queued.push(delivery);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/backchannel-logout`;
  }

  next(): Promise<Delivery> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no logout token arrived within 10 s')), 10_000);
      this.waiting.push((d) => {
        clearTimeout(timer);
        resolve(d);
      });
    });
  }

  pending(): number {
    return this.queued.length;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

describe('back-channel logout (OpenID Connect Back-Channel Logout 1.0)', () => {
  let server: TestServer;
  let receiver: Receiver;
  let app: TestClient;
  let other: TestClient;
  let person: TestPerson;

  before(async () => {
    // The app's endpoint is on 127.0.0.1, which oidc-provider's SSRF guard refuses unless allowed.
    server = await startTestServer({ ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
    receiver = new Receiver();
    await receiver.start();
    const make = async (name: string, redirectUri: string, backchannel: boolean) => {
      const { client, clientSecret } = await server.runtime.clients.create({
        name,
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [`${new URL(redirectUri).origin}/bye`],
        ...(backchannel ? { backchannelLogoutUri: receiver.url, backchannelLogoutSessionRequired: true } : {}),
      });
      return { clientId: client.clientId, clientSecret, redirectUri, config: await discover(server, client.clientId, clientSecret) };
    };
    app = await make('Wiki', 'https://wiki.example.test/cb', true);
    other = await make('Other', 'https://other.example.test/cb', false);
    person = await createUser(server);
  });
  beforeEach(() => assert.equal(receiver.pending(), 0, 'no delivery left over from the test before'));
  after(async () => {
    await receiver?.stop();
    await server?.stop();
  });

  /** Polls a condition the server reaches on its own (a post answered, a row written), for at most 5 s. */
  async function until(done: () => Promise<boolean>) {
    for (let i = 0; i < 100; i++) {
      if (await done()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('the server did not get there within 5 s');
  }

  const jwks = () => createRemoteJWKSet(new URL(`${server.issuer}/jwks`));

  async function verifyLogoutToken(token: string, sid: string | undefined) {
    assert.equal(decodeProtectedHeader(token).typ, 'logout+jwt');
    const { payload } = await jwtVerify(token, jwks(), { issuer: server.issuer, audience: app.clientId, typ: 'logout+jwt' });
    assert.equal(payload.sub, person.id);
    assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.equal(payload.sid, sid, 'the session the app knows from its ID token');
    assert.equal(payload.nonce, undefined, 'a logout token carries no nonce (§2.4)');
    assert.ok(payload.jti && payload.iat);
  }

  async function signInBoth(browser: Browser) {
    const first = await codeFlow(app, browser, person);
    await codeFlow(other, browser, person);
    return first.tokens;
  }

  async function logOut(browser: Browser, idToken: string) {
    const url = oidc.buildEndSessionUrl(app.config, { id_token_hint: idToken, post_logout_redirect_uri: 'https://wiki.example.test/bye' });
    const confirm = (await browser.navigate(url.href)) as Page;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
    const action = /id="op.logoutForm"[^>]*action="([^"]+)"|action="([^"]+)"[^>]*id="op.logoutForm"/.exec(confirm.html)!;
    return browser.redirect(new URL(action[1] ?? action[2]!, server.url).href, { form: { xsrf, logout: 'yes' } });
  }

  it('RP-initiated logout sends the app a logout token signed by Latchkey, naming the person and the session, without waiting for the app', async () => {
    const browser = new Browser(server.url);
    const tokens = await signInBoth(browser);
    const sid = tokens.claims()!.sid as string;
    assert.ok(sid, 'the ID token names the session');
    // The app does not answer until the person's logout is done: the logout must not wait for it.
    const back = await logOut(browser, tokens.id_token!);
    assert.equal(back.origin + back.pathname, 'https://wiki.example.test/bye');
    const delivery = await receiver.next().catch((e) => {
      console.error(server.logs.filter((l) => /back-channel|error|warn/i.test(l)).join('\n'));
      throw e;
    });
    await verifyLogoutToken(delivery.logoutToken, sid);
    assert.equal(delivery.abandoned(), false, 'the post still waits for the app after the person is logged out');
    delivery.answer(200);
    // Only the app that registered a URI is told; one token, not one per app.
    assert.equal(receiver.pending(), 0);
  });

  it('a failed delivery is retried and audited, and a forged or foreign token would not verify', async () => {
    const browser = new Browser(server.url);
    const tokens = await signInBoth(browser);
    await logOut(browser, tokens.id_token!);
    const first = await receiver.next();
    first.answer(503);
    await until(async () => (await server.runtime.db.backchannelLogout.findFirst())?.attempts === 1);
    advanceClock(server, RETRY_DELAYS_MS[0]!);
    const retry = await receiver.next();
    await verifyLogoutToken(retry.logoutToken, tokens.claims()!.sid as string);
    assert.notEqual(retry.logoutToken, first.logoutToken, 'a new token (its own jti) for each attempt');
    retry.answer(204);
    const audits = await server.runtime.db.auditEvent.findMany({ where: { type: 'backchannel_logout_failed' } });
    assert.equal(audits.length, 1);
    assert.equal(audits[0]!.clientId, app.clientId);
    assert.match(audits[0]!.detail ?? '', /503/);
    assert.doesNotMatch(audits[0]!.detail ?? '', /eyJ/, 'no token in the audit');
    // The token is for this app only: another audience does not verify.
    await assert.rejects(jwtVerify(retry.logoutToken, jwks(), { issuer: server.issuer, audience: other.clientId }));
  });

  it('sign out everywhere and disabling the person tell the app too', async () => {
    for (const end of [
      async () => assert.equal((await server.runtime.sessions.signOutEverywhere(person.id)).sessions, 1),
      () => server.runtime.users.setDisabled(person.id, true),
    ]) {
      const browser = new Browser(server.url);
      const tokens = await signInBoth(browser);
      await end();
      const delivery = await receiver.next();
      await verifyLogoutToken(delivery.logoutToken, tokens.claims()!.sid as string);
      delivery.answer(200);
    }
    await server.runtime.users.setDisabled(person.id, false);
  });

  it('a session ended by the CLI (another process, which sends nothing itself) is told to the app by the server', async () => {
    const browser = new Browser(server.url);
    const tokens = await signInBoth(browser);
    const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
    const result = await admin('user', 'end-sessions', person.id);
    assert.equal(result.code, 0, result.stderr);
    const delivery = await receiver.next();
    await verifyLogoutToken(delivery.logoutToken, tokens.claims()!.sid as string);
    delivery.answer(200);
    await until(async () => (await server.runtime.db.backchannelLogout.count()) === 0);
  });

  it('discovery says so, and a back-channel logout URI must be http(s) without a fragment', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(discovery.backchannel_logout_supported, true);
    assert.equal(discovery.backchannel_logout_session_supported, true);
    for (const bad of ['com.example.app:/logout', 'https://rp.example.test/logout#x', 'http://rp.example.test/logout', 'not a uri']) {
      await assert.rejects(
        server.runtime.clients.create({ name: 'Bad', redirectUris: ['https://rp.example.test/cb'], backchannelLogoutUri: bad }),
        (err: Error) => /back-channel logout URI/.test(err.message),
        bad,
      );
    }
  });

  it('a retry owed by a server that stopped is sent by the next one to start', async () => {
    const browser = new Browser(server.url);
    const tokens = await signInBoth(browser);
    await logOut(browser, tokens.id_token!);
    (await receiver.next()).answer(503);
    await until(async () => (await server.runtime.db.backchannelLogout.findFirst())?.attempts === 1);
    // The server stops with the retry owed (its database stays); the same deployment starts again.
    await server.close();
    const restarted = await startTestServer({}, { dir: server.dir, env: server.env });
    try {
      advanceClock(restarted, RETRY_DELAYS_MS[0]!);
      const retry = await receiver.next();
      await verifyLogoutToken(retry.logoutToken, tokens.claims()!.sid as string);
      retry.answer(200);
      await until(async () => (await restarted.runtime.db.backchannelLogout.count()) === 0);
    } finally {
      await restarted.close();
    }
  });
});
