import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, createUser, oidc, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('authorization code + PKCE with openid-client', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('a confidential client gets ID, access and refresh tokens that verify against the JWKS', async () => {
    const client = await registerClient(server, { name: 'Confidential App' });
    const person = await createUser(server, 'Grace.Hopper@Example.test', 'a long enough password', 'Grace Hopper');
    const browser = new Browser(server.url);
    const { tokens } = await codeFlow(
      client,
      browser,
      { email: 'grace.hopper@example.test', password: person.password },
      {
        scope: 'openid email profile offline_access',
        prompt: 'consent',
      },
    );

    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'offline_access with prompt=consent yields a refresh token');
    const claims = tokens.claims()!;
    assert.equal(claims.sub, person.id);
    assert.equal(claims.email, 'grace.hopper@example.test');
    assert.equal(claims.email_verified, true);
    assert.equal(claims.name, 'Grace Hopper');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(typeof claims.auth_time, 'number');
    assert.equal(claims.aud, client.clientId);

    // Independently of openid-client: the ID token is RS256 and verifies against the published keys.
    assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: server.issuer, audience: client.clientId });
    assert.equal(payload.sub, person.id);

    const userinfo = await oidc.fetchUserInfo(client.config, tokens.access_token, person.id);
    assert.equal(userinfo.email, 'grace.hopper@example.test');
    assert.equal(userinfo.name, 'Grace Hopper');
  });

  it('a public client completes the flow with PKCE and no secret', async () => {
    const client = await registerClient(server, { name: 'SPA', public: true, redirectUri: 'http://127.0.0.1:9999/cb' });
    const person = await createUser(server);
    const { tokens } = await codeFlow(client, new Browser(server.url), person);
    assert.equal(tokens.claims()!.sub, person.id);
    assert.equal(tokens.refresh_token, undefined, 'no offline_access requested, no refresh token');
  });

  it('state comes back unchanged and the nonce is in the ID token', async () => {
    const client = await registerClient(server);
    const person = await createUser(server);
    const { tokens, callback, req } = await codeFlow(client, new Browser(server.url), person);
    assert.equal(callback.searchParams.get('state'), req.state);
    assert.equal(callback.searchParams.get('iss'), server.issuer);
    assert.equal(tokens.claims()!.nonce, req.nonce);
  });

  it('publishes both the RS256 and ES256 public keys, and no private parts', async () => {
    const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: { alg: string; d?: string }[] };
    assert.deepEqual(new Set(jwks.keys.map((k) => k.alg)), new Set(['RS256', 'ES256']));
    assert.ok(
      jwks.keys.every((k) => k.d === undefined),
      'no private parts in the JWKS',
    );
  });

  it('a client registered for ES256 gets ES256 ID tokens; client_secret_post works too', async () => {
    const client = await registerClient(server, { idTokenAlg: 'ES256', authMethod: 'client_secret_post' });
    const person = await createUser(server);
    const { tokens } = await codeFlow(client, new Browser(server.url), person);
    assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'ES256');
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer });
    assert.equal(payload.sub, person.id);
  });

  it("a person's access token for an API lives as long as the API's --ttl; a scope the app was not granted is refused by name", async () => {
    const API = 'https://short-lived.example.test';
    await server.runtime.resources.create({ identifier: API, scope: 'photos.read photos.delete', format: 'jwt', ttl: 300 });
    const client = await registerClient(server, { apiScope: 'photos.read' });
    const person = await createUser(server);
    const { authRequest } = await import('../helpers/relying-party.ts');
    const refused = await new Browser(server.url).navigate((await authRequest(client, { scope: 'openid photos.read photos.delete', resource: API })).url.href);
    assert.ok('redirect' in refused);
    assert.equal(new URL(refused.redirect).searchParams.get('error'), 'invalid_scope');
    assert.match(
      new URL(refused.redirect).searchParams.get('error_description')!,
      /'photos\.delete' is not allowed/,
      'photos.delete was never granted to the app',
    );

    const { tokens } = await codeFlow(client, new Browser(server.url), person, { scope: 'openid photos.read', resource: API });
    assert.ok(tokens.expires_in! <= 300 && tokens.expires_in! > 290, `expires_in ${tokens.expires_in}`);
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: API });
    assert.equal(payload.exp! - payload.iat!, 300);
    assert.equal(payload.scope, 'photos.read');
  });

  it('a person cannot be sent to authorize an audience-only token: some scope of the API must be asked for and granted', async () => {
    const API = 'https://scoped.example.test';
    await server.runtime.resources.create({ identifier: API, scope: 'files.read files.write', format: 'jwt' });
    const client = await registerClient(server, { apiScope: 'files.read' });
    const { authRequest } = await import('../helpers/relying-party.ts');
    for (const scope of ['openid', 'openid files.write']) {
      const out = await new Browser(server.url).navigate((await authRequest(client, { scope, resource: API })).url.href);
      assert.ok('redirect' in out, scope);
      const back = new URL(out.redirect);
      assert.equal(back.searchParams.get('error'), 'invalid_scope', scope);
      assert.match(back.searchParams.get('error_description')!, /files\.read/, 'names what may be asked for');
    }
  });

  it('an app granted no scope of an API cannot send a person to authorize a token for it', async () => {
    const API = 'https://no-grant.example.test';
    await server.runtime.resources.create({ identifier: API, scope: 'vault.read', format: 'jwt' });
    const client = await registerClient(server);
    const req = await (await import('../helpers/relying-party.ts')).authRequest(client, { scope: 'openid vault.read', resource: API });
    const out = await new Browser(server.url).navigate(req.url.href);
    assert.ok('redirect' in out, 'the error goes back to the registered redirect URI');
    const back = new URL(out.redirect);
    assert.equal(back.searchParams.get('error'), 'invalid_target');
    assert.match(back.searchParams.get('error_description')!, /is granted none of the scopes of https:\/\/no-grant\.example\.test/);
  });

  it('discovery advertises S256 only and the endpoints relying parties need', async () => {
    const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    for (const k of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'introspection_endpoint',
      'revocation_endpoint',
      'end_session_endpoint',
    ]) {
      assert.ok(typeof meta[k] === 'string' && (meta[k] as string).startsWith(server.issuer), k);
    }
    assert.deepEqual(meta.response_types_supported, ['code']);
  });
});
