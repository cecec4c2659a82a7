// What the README's integration section promises about DPoP (RFC 9449) and
// pushed authorization requests (RFC 9126), checked with openid-client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { Browser } from '../helpers/browser.ts';
import { createUser, oidc, registerClient, signIn, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('DPoP and PAR', () => {
  let server: TestServer;
  let client: TestClient;
  let person: TestPerson;
  before(async () => {
    server = await startTestServer();
    client = await registerClient(server, { name: 'Bound' });
    person = await createUser(server);
  });
  after(() => server.stop());

  it('a pushed authorization request, then a DPoP-bound code exchange: token_type DPoP, and the token works only with its proof', async () => {
    const dpop = oidc.getDPoPHandle(client.config, await oidc.randomDPoPKeyPair('ES256'));
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = await oidc.buildAuthorizationUrlWithPAR(
      client.config,
      {
        redirect_uri: client.redirectUri,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      },
      { DPoP: dpop },
    );
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'], 'only a reference travels through the browser');
    assert.match(url.searchParams.get('request_uri')!, /^urn:ietf:params:oauth:request_uri:/);

    const callback = await signIn(new Browser(server.url), { url, verifier, state, nonce: '' }, person);
    const tokens = await oidc.authorizationCodeGrant(client.config, callback, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: dpop });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    const userinfo = await oidc.fetchUserInfo(client.config, tokens.access_token, person.id, { DPoP: dpop });
    assert.equal(userinfo.email, person.email);
    // Without the proof (as a plain bearer token) it is refused.
    const bearer = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(bearer.status, 401);
    assert.ok(decodeJwt(tokens.id_token!).sub === person.id);
  });
});
