import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, pageText } from '../helpers/browser.ts';
import { authRequest, oidc, postToken, serverWithClientAndPerson, signIn, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import type { TestServer } from '../helpers/server.ts';

describe('authorization and token endpoint refusals', () => {
  let server: TestServer;
  let client: TestClient;
  let person: TestPerson;
  before(async () => ({ server, client, person } = await serverWithClientAndPerson()));
  after(() => server.stop());

  async function codeFor(params: Record<string, string> = {}) {
    const req = await authRequest(client, params);
    const callback = await signIn(new Browser(server.url), req, person);
    return { req, code: callback.searchParams.get('code')! };
  }

  const token = (form: Record<string, string>, secret = client.clientSecret!) => postToken(server, client, form, secret);

  it('an unregistered redirect_uri is shown an error page and never redirected to', async () => {
    const req = await authRequest(client, { redirect_uri: 'https://evil.example.test/steal' });
    const res = await fetch(req.url, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    const text = pageText(await res.text());
    assert.match(text, /has not registered/);
    assert.doesNotMatch(text, /evil\.example\.test\/steal\?/);
  });

  it('a redirect_uri differing only by a trailing slash or query is not accepted (exact match)', async () => {
    for (const uri of [`${client.redirectUri}/`, `${client.redirectUri}?x=1`, client.redirectUri.toUpperCase()]) {
      const req = await authRequest(client, { redirect_uri: uri });
      const res = await fetch(req.url, { redirect: 'manual' });
      assert.equal(res.status, 400, uri);
      assert.equal(res.headers.get('location'), null, uri);
    }
  });

  it('an unknown client_id gets an error page, no redirect', async () => {
    const req = await authRequest(client, { client_id: 'no-such-client' });
    const res = await fetch(req.url, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(pageText(await res.text()), /not registered/);
  });

  it('an authorization request without PKCE is refused back to the app', async () => {
    const url = new URL(`${server.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      response_type: 'code',
      scope: 'openid',
      state: 's1',
    }).toString();
    const callback = await new Browser(server.url).redirect(url.href);
    assert.equal(callback.searchParams.get('error'), 'invalid_request');
    assert.match(callback.searchParams.get('error_description')!, /PKCE/);
  });

  it('PKCE method plain is refused', async () => {
    const req = await authRequest(client, { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) });
    const callback = await new Browser(server.url).redirect(req.url.href);
    assert.equal(callback.searchParams.get('error'), 'invalid_request');
  });

  it('a code exchanged with the wrong PKCE verifier is refused', async () => {
    const { code } = await codeFor();
    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: oidc.randomPKCECodeVerifier() });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
    assert.match(res.body.error_description, /code_verifier does not match code_challenge/);
  });

  it('a code exchanged without a verifier is refused', async () => {
    const { code } = await codeFor();
    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri });
    assert.equal(res.status, 400);
    assert.ok(['invalid_grant', 'invalid_request'].includes(res.body.error), res.body.error);
    assert.match(res.body.error_description, /code_verifier/);
  });

  it('a code used twice is refused the second time, and the tokens from the first use are revoked', async () => {
    const { req, code } = await codeFor();
    const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: req.verifier };
    const first = await token(form);
    assert.equal(first.status, 200);
    const second = await token(form);
    assert.equal(second.status, 400);
    assert.equal(second.body.error, 'invalid_grant');
    const info = await oidc.tokenIntrospection(client.config, first.body.access_token);
    assert.equal(info.active, false);
  });

  it('a wrong client secret is invalid_client, and does not consume the code', async () => {
    const { req, code } = await codeFor();
    const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: req.verifier };
    const bad = await token(form, 'wrong-secret');
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error, 'invalid_client');
    const good = await token(form);
    assert.equal(good.status, 200);
  });

  it('a secret with the right prefix or the stored hash itself does not authenticate', async () => {
    const { req, code } = await codeFor();
    const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: req.verifier };
    const stored = (await server.runtime.db.client.findUnique({ where: { id: client.clientId } }))!.secretHash!;
    for (const secret of [client.clientSecret!.slice(0, -1), `${client.clientSecret}x`, stored]) {
      const res = await token(form, secret);
      assert.equal(res.status, 401);
      assert.equal(res.body.error, 'invalid_client');
    }
    const empty = await token(form, '');
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error, 'invalid_request');
    // None of these consumed the code.
    assert.equal((await token(form)).status, 200);
  });

  it('a code issued to one redirect_uri cannot be redeemed with another', async () => {
    const { req, code } = await codeFor();
    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.test/other', code_verifier: req.verifier });
    assert.equal(res.body.error, 'invalid_grant');
  });

  it('malformed token requests get OAuth errors, never a 500', async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'invalid_request'],
      [{ grant_type: 'password', username: 'a', password: 'b' }, 'unsupported_grant_type'],
      [{ grant_type: 'authorization_code', code: 'garbage', redirect_uri: client.redirectUri, code_verifier: 'x'.repeat(43) }, 'invalid_grant'],
      [{ grant_type: 'refresh_token', refresh_token: 'garbage' }, 'invalid_grant'],
    ];
    for (const [form, expected] of cases) {
      const res = await token(form);
      assert.equal(res.status < 500, true);
      assert.equal(res.body.error, expected, JSON.stringify(form));
      assert.ok(res.body.error_description, 'has a description');
    }
  });
});
