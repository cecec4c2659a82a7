// Two nodes behind one issuer on one database (PostgreSQL in the CI's
// second pass, SQLite otherwise): nothing a request needs lives in one process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, type Page } from '../helpers/browser.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';

describe('several nodes on one database', () => {
  let a: TestServer;
  let b: TestServer;
  let appOne: TestClient;
  let appTwo: TestClient;

  before(async () => {
    const shared = { KEY_REFRESH_INTERVAL: '1', JWKS_MAX_AGE: '5', KEY_ROTATION_DELAY: '5' };
    a = await startTestServer(shared);
    b = await startSecondNode(a, shared);
    appOne = await registerClient(a, { name: 'One' });
    appTwo = await registerClient(a, { name: 'Two' });
  });
  after(async () => {
    await b.stop();
    await a.stop();
  });

  const onB = (url: URL | string) => {
    const u = new URL(url);
    u.host = new URL(b.url).host;
    return u;
  };

  async function form(node: TestServer, path: string, client: TestClient, body: Record<string, string>) {
    const res = await fetch(`${node.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  it('login on A, then a second app on B gets a code with no login (SSO)', async () => {
    const person = await createUser(a);
    const browser = new Browser([a.url, b.url]);
    await codeFlow(appOne, browser, person);
    const req = await authRequest(appTwo);
    const first = await browser.navigate(onB(req.url).href);
    // B shows consent for the new app (not a login page), then redirects with a code.
    let step = first;
    if (!('redirect' in step)) {
      assert.doesNotMatch((step as Page).html, /name="password"/, 'no login on B');
      const page = step as Page;
      const action = page.html.match(/action="([^"]*\/confirm)"/)![1]!;
      step = await browser.navigate(new URL(action, onB(page.url)).href, { form: { csrf: page.html.match(/name="csrf" value="([^"]+)"/)![1]! } });
    }
    assert.ok('redirect' in step);
    assert.ok(new URL(step.redirect).searchParams.get('code'), step.redirect);
    const tokens = await oidc.authorizationCodeGrant(appTwo.config, new URL(step.redirect), {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    assert.equal(tokens.claims()!.sub, person.id);
  });

  it('a refresh token issued by A is refreshed on B; revocation on A is seen at once by introspection on B', async () => {
    const person = await createUser(a);
    const { tokens } = await codeFlow(appOne, new Browser(a.url), person, { scope: 'openid offline_access', prompt: 'consent' });
    const refreshed = await form(b, '/token', appOne, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const access = String(refreshed.body.access_token);
    assert.equal((await form(b, '/token/introspection', appOne, { token: access })).body.active, true);
    assert.equal((await form(a, '/token/revocation', appOne, { token: access })).status, 200);
    assert.equal((await form(b, '/token/introspection', appOne, { token: access })).body.active, false);
  });

  it('the same refresh token raced on A and B is honoured once', async () => {
    const person = await createUser(a);
    const { tokens } = await codeFlow(appOne, new Browser(a.url), person, { scope: 'openid offline_access', prompt: 'consent' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => form(i % 2 ? a : b, '/token', appOne, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(','));
  });

  it('clients, keys and resources are cached per node, and a change on A is obeyed by B within 250 ms', async () => {
    const { importJWK, SignJWT } = await import('jose');
    await a.runtime.resources.create({ identifier: 'https://cached.example.test', scope: 'c.read', format: 'jwt' });
    const sa = await a.runtime.serviceAccounts.create({ name: 'cached', scope: 'c.read', generateKey: 'ES256' });
    const id = sa.account.clientId;
    const exchange = async (node: TestServer) => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({ iss: id, sub: id, aud: a.issuer, iat: now, exp: now + 60, jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: sa.privateJwk!.kid })
        .sign(await importJWK(sa.privateJwk!, 'ES256'));
      const res = await fetch(`${node.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, resource: 'https://cached.example.test' }),
      });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    };
    // B loads (and caches) the account and the resource.
    for (let i = 0; i < 3; i++) assert.equal((await exchange(b)).status, 200);
    // Changed on A: B obeys within the check interval.
    await a.runtime.resources.delete('https://cached.example.test');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await exchange(b)).body.error, 'invalid_target', 'the deleted resource is gone on B');
    await a.runtime.resources.create({ identifier: 'https://cached.example.test', scope: 'c.read', format: 'jwt' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await exchange(b)).status, 200, 'and back');
    await a.runtime.serviceAccounts.removeKey(id, sa.privateJwk!.kid!);
    await new Promise((r) => setTimeout(r, 300));
    const afterKey = await exchange(b);
    assert.equal(afterKey.status, 400, 'the removed key no longer works on B');
    assert.equal(afterKey.body.error, 'invalid_grant');
  });

  it("a key rotated on A is in B's JWKS within the JWKS cache period", async () => {
    const { rotateSigningKey } = await import('../../src/services/secrets/signing-keys.ts');
    const kid = await rotateSigningKey(a.runtime.db, a.runtime.box, 'ES256', new Date(Date.now() + 5000));
    const deadline = Date.now() + 5000;
    let seen = false;
    while (!seen && Date.now() < deadline) {
      const keys = ((await (await fetch(`${b.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys;
      seen = keys.some((k) => k.kid === kid);
      if (!seen) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(seen, 'B publishes the new key within JWKS_MAX_AGE');
  });
});
