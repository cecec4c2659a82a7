// A plain OAuth 2.0 authorization-code flow (no `openid`), as most apps that
// only want an API token make it; a client's default resource; scopes that
// no API of the request grants are refused by name, never dropped.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Browser, pageText, type Page } from '../helpers/browser.ts';
import { codeFlow, createUser, oidc, registerClient, signIn, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CMDB = 'https://cmdb.example.test';

/** An authorization request as an OAuth 2.0 app makes it: no nonce, whatever scope it names. */
async function oauthRequest(client: TestClient, params: Record<string, string>) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(client.config, {
    redirect_uri: client.redirectUri,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  return { url, verifier, state, nonce: '' };
}

describe('plain OAuth 2.0 apps and API scopes', () => {
  let server: TestServer;
  let person: TestPerson;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: CMDB, scope: 'cmdb.read cmdb.write reports.read', format: 'jwt' });
    person = await createUser(server);
    jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  });
  after(() => server.stop());

  it('scope=cmdb.read reports.read without openid: consent names the API, and the code redeems for an API token with those scopes and no ID token', async () => {
    const client = await registerClient(server, { name: 'Reports', apiScope: 'cmdb.read reports.read', defaultResource: CMDB });
    const browser = new Browser(server.url);
    const req = await oauthRequest(client, { scope: 'cmdb.read reports.read' });
    const login = (await browser.navigate(req.url.href)) as Page;
    const { submitLogin } = await import('../helpers/relying-party.ts');
    const consent = (await submitLogin(browser, login, person.email, person.password)) as Page;
    assert.match(pageText(consent.html), /Use the “cmdb\.read” permission at https:\/\/cmdb\.example\.test/);
    const callback = await signIn(browser, req, person);
    const tokens = await oidc.authorizationCodeGrant(client.config, callback, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      idTokenExpected: false,
    });
    assert.equal(tokens.id_token, undefined);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'cmdb.read reports.read');
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: CMDB, typ: 'at+jwt' });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, person.id);
    assert.equal(payload.client_id, client.clientId);
    assert.equal(payload.scope, 'cmdb.read reports.read');
  });

  it('the same request naming the API with `resource` works for a client without a default resource; a refresh keeps the audience', async () => {
    const client = await registerClient(server, { apiScope: 'cmdb.read' });
    const browser = new Browser(server.url);
    const req = await oauthRequest(client, { scope: 'cmdb.read offline_access', resource: CMDB, prompt: 'consent' });
    const callback = await signIn(browser, req, person);
    const tokens = await oidc.authorizationCodeGrant(client.config, callback, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      idTokenExpected: false,
    });
    assert.equal((await jwtVerify(tokens.access_token, jwks, { audience: CMDB })).payload.scope, 'cmdb.read');
    assert.ok(tokens.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(client.config, tokens.refresh_token!);
    assert.equal((await jwtVerify(refreshed.access_token, jwks, { audience: CMDB })).payload.scope, 'cmdb.read');
  });

  it('openid plus API scopes without `resource`: an ID token (auth_time, email) and an access token for the default resource', async () => {
    const client = await registerClient(server, { apiScope: 'cmdb.read reports.read', defaultResource: CMDB });
    const { tokens } = await codeFlow(client, new Browser(server.url), person, { scope: 'openid email cmdb.read' });
    const claims = tokens.claims()!;
    assert.equal(typeof claims.auth_time, 'number');
    assert.equal(claims.email, person.email);
    const { payload } = await jwtVerify(tokens.access_token, jwks, { audience: CMDB });
    assert.equal(payload.scope, 'cmdb.read', 'the API token carries the API scopes only');
    // That token is the API's: userinfo refuses it (documented); OIDC scopes alone give a userinfo token.
    await assert.rejects(oidc.fetchUserInfo(client.config, tokens.access_token, person.id));
    const plain = await codeFlow(client, new Browser(server.url), person, { scope: 'openid email' });
    assert.equal((await oidc.fetchUserInfo(client.config, plain.tokens.access_token, person.id)).email, person.email);
  });

  it('API scopes without `resource` and without a default resource are refused with invalid_scope naming them', async () => {
    const client = await registerClient(server, { apiScope: 'cmdb.read' });
    for (const scope of ['cmdb.read reports.read', 'openid cmdb.read']) {
      const out = await new Browser(server.url).navigate((await oauthRequest(client, { scope })).url.href);
      assert.ok('redirect' in out, scope);
      const back = new URL(out.redirect);
      assert.equal(back.searchParams.get('error'), 'invalid_scope', scope);
      assert.match(back.searchParams.get('error_description')!, /unknown scope 'cmdb\.read'/);
      assert.match(back.searchParams.get('error_description')!, /resource parameter|--default-resource/);
    }
  });

  it('a scope that is neither an OIDC scope nor granted at the API is refused by name, with or without `resource`', async () => {
    const client = await registerClient(server, { apiScope: 'cmdb.read', defaultResource: CMDB });
    for (const [params, named] of [
      [{ scope: 'cmdb.read bogus.scope' }, 'bogus.scope'],
      [{ scope: 'openid cmdb.read cmdb.write' }, 'cmdb.write'],
      [{ scope: 'cmdb.read bogus.scope', resource: CMDB }, 'bogus.scope'],
    ] as const) {
      const out = await new Browser(server.url).navigate((await oauthRequest(client, params)).url.href);
      assert.ok('redirect' in out, JSON.stringify(params));
      const back = new URL(out.redirect);
      assert.equal(back.searchParams.get('error'), 'invalid_scope');
      assert.match(back.searchParams.get('error_description')!, new RegExp(`'${named.replace('.', '\\.')}' is not allowed`));
      assert.match(back.searchParams.get('error_description')!, /it may ask for: cmdb\.read/);
    }
  });
});
