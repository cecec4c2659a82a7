// client_credentials with every client authentication method we offer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, createRemoteJWKSet, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const API = 'https://billing.example.test';
type Body = Record<string, string> & { error: string; error_description: string; access_token: string; scope: string };

describe('client credentials grant and client authentication', () => {
  let server: TestServer;
  let tokenUrl: string;
  const basic = {} as { id: string; secret: string };
  const post = {} as { id: string; secret: string };
  const sa = {} as { id: string; key: JWK };

  before(async () => {
    server = await startTestServer();
    tokenUrl = `${server.issuer}/token`;
    await server.runtime.resources.create({ identifier: API, scope: 'invoices.read invoices.write', format: 'jwt' });
    const b = await server.runtime.clients.create({ name: 'batch (basic)', redirectUris: [], clientCredentials: true, apiScope: 'invoices.read' });
    Object.assign(basic, { id: b.client.clientId, secret: b.clientSecret });
    const p = await server.runtime.clients.create({
      name: 'batch (post)',
      redirectUris: [],
      clientCredentials: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      apiScope: 'invoices.read invoices.write',
    });
    Object.assign(post, { id: p.client.clientId, secret: p.clientSecret });
    const s = await server.runtime.serviceAccounts.create({ name: 'exporter', scope: 'invoices.read', generateKey: 'ES256' });
    Object.assign(sa, { id: s.account.clientId, key: s.privateJwk });
  });
  after(() => server.stop());

  async function token(form: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...form }),
    });
    return { status: res.status, body: (await res.json()) as Body };
  }
  const basicAuth = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

  async function clientAssertion(opts: { key?: CryptoKey; claims?: Record<string, unknown> } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const key = opts.key ?? ((await importJWK(sa.key, 'ES256')) as CryptoKey);
    return new SignJWT({ iss: sa.id, sub: sa.id, aud: tokenUrl, iat: now, exp: now + 60, jti: randomUUID(), ...opts.claims })
      .setProtectedHeader({ alg: 'ES256', kid: sa.key.kid })
      .sign(key);
  }

  it('client_secret_basic: a JWT access token for the requested resource, verifiable offline', async () => {
    const r = await token({ resource: API, scope: 'invoices.read' }, basicAuth(basic.id, basic.secret));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { payload, protectedHeader } = await jwtVerify(r.body.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
      issuer: server.issuer,
      audience: API,
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.client_id, basic.id);
    assert.equal(payload.sub, basic.id);
    assert.equal(payload.scope, 'invoices.read');
  });

  it("a client's API scope list narrows what it gets", async () => {
    const r = await token({ resource: API, scope: 'invoices.read invoices.write' }, basicAuth(basic.id, basic.secret));
    assert.equal(r.status, 200);
    assert.equal(r.body.scope, 'invoices.read', 'invoices.write is not in the client api_scope');
  });

  it('client_secret_post', async () => {
    const r = await token({ client_id: post.id, client_secret: post.secret, resource: API, scope: 'invoices.write' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.scope, 'invoices.write');
  });

  it('private_key_jwt for a service account', async () => {
    const r = await token({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(),
      resource: API,
      scope: 'invoices.read',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.scope, 'invoices.read');
  });

  it('openid-client obtains a token with client credentials', async () => {
    const config = await oidc.discovery(new URL(server.issuer), basic.id, undefined, oidc.ClientSecretBasic(basic.secret), {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API, scope: 'invoices.read' });
    assert.ok(tokens.access_token);
    assert.equal(tokens.scope, 'invoices.read');
  });

  it('discovery advertises the grants and authentication methods', async () => {
    const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
    for (const g of ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) assert.ok(meta.grant_types_supported!.includes(g), g);
    for (const m of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) assert.ok(meta.token_endpoint_auth_methods_supported!.includes(m), m);
    assert.ok(!meta.token_endpoint_auth_methods_supported!.includes('client_secret_jwt'));
  });

  describe('API scopes are granted explicitly, never assumed', () => {
    const ADMIN_API = 'https://admin-api.example.test';
    before(() => server.runtime.resources.create({ identifier: ADMIN_API, scope: 'admin.all admin.read', format: 'jwt' }));

    it('a client created without --api-scope gets no token for any API, asked with or without a scope', async () => {
      // The README's introspecting resource server, as the review found it: `client create --client-credentials`.
      const c = await server.runtime.clients.create({ name: 'introspector', redirectUris: [], clientCredentials: true });
      const creds = basicAuth(c.client.clientId, c.clientSecret!);
      const attempts = await Promise.all([
        token({ resource: ADMIN_API, scope: 'admin.all' }, creds),
        token({ resource: ADMIN_API }, creds),
        token({ resource: API, scope: 'invoices.read invoices.write' }, creds),
      ]);
      for (const r of attempts) {
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.error, 'invalid_target');
        assert.equal(r.body.access_token, undefined);
        assert.match(r.body.error_description, /is granted none of the scopes of https:\/\/(admin-api|billing)\.example\.test/);
      }
    });

    it("a client granted scopes of one API cannot obtain another API's token, not even with an empty scope", async () => {
      for (const form of [{ resource: ADMIN_API, scope: 'admin.all' }, { resource: ADMIN_API }, { resource: ADMIN_API, scope: 'invoices.read' }] as Record<
        string,
        string
      >[]) {
        const r = await token(form, basicAuth(basic.id, basic.secret));
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.error, 'invalid_target');
        assert.match(r.body.error_description, /granted: invoices\.read/, 'the description names what the client is allowed');
      }
    });

    it('a service account allowed only one API gets nothing from another, by either grant', async () => {
      const cc = await token({
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(),
        resource: ADMIN_API,
      });
      assert.equal(cc.status, 400, JSON.stringify(cc.body));
      assert.equal(cc.body.error, 'invalid_target');
    });

    it('nothing of the request allowed at the resource is refused with invalid_scope naming what is allowed', async () => {
      const r = await token({ resource: API, scope: 'invoices.write' }, basicAuth(basic.id, basic.secret));
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error, 'invalid_scope');
      assert.match(r.body.error_description, /allowed: invoices\.read/);
    });

    it('with no scope asked, a client gets everything it was granted at the resource; a service account its default scope', async () => {
      const app = await token({ resource: API }, basicAuth(post.id, post.secret));
      assert.equal(app.status, 200, JSON.stringify(app.body));
      assert.equal(app.body.scope, 'invoices.read invoices.write');
      const sa = await token({
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(),
        resource: API,
      });
      assert.equal(sa.status, 200, JSON.stringify(sa.body));
      assert.equal(sa.body.scope, 'invoices.read');
    });
  });

  describe('refusals', () => {
    it('a wrong secret (basic) is invalid_client', async () => {
      const r = await token({ resource: API }, basicAuth(basic.id, 'wrong'));
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_client');
      assert.equal(r.body.access_token, undefined);
    });
    it('a wrong secret (post) is invalid_client', async () => {
      const r = await token({ client_id: post.id, client_secret: `${post.secret}x` });
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_client');
    });
    it('credentials sent two ways at once are refused', async () => {
      const r = await token({ client_id: basic.id, client_secret: basic.secret }, basicAuth(basic.id, basic.secret));
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request');
      assert.match(r.body.error_description, /only be provided using one mechanism/);
    });
    it('a secret client cannot authenticate with a private_key_jwt assertion', async () => {
      const r = await token({
        client_id: basic.id,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(),
      });
      assert.equal(r.body.error, 'invalid_request', JSON.stringify(r.body));
    });
    it('a private_key_jwt assertion signed by another key is refused', async () => {
      const other = await generateKeyPair('ES256');
      const r = await token({
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion({ key: other.privateKey }),
      });
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_client');
    });
    it('a private_key_jwt assertion cannot be replayed', async () => {
      const a = await clientAssertion();
      const form = { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a, resource: API };
      assert.equal((await token(form)).status, 200);
      const again = await token(form);
      assert.equal(again.status, 401);
      assert.equal(again.body.error, 'invalid_client');
    });
    it('a private_key_jwt assertion raced from 15 parallel requests is accepted once', async () => {
      const a = await clientAssertion();
      const form = { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a, resource: API };
      const results = await Promise.all(Array.from({ length: 15 }, () => token(form)));
      assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(','));
      assert.ok(results.every((r) => r.status === 200 || r.body.error === 'invalid_client'));
    });
    it('a jwt-bearer assertion without a resource (and no DEFAULT_RESOURCE) is refused: API scopes need an audience', async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({ iss: sa.id, sub: sa.id, aud: tokenUrl, iat: now, exp: now + 60, jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: sa.key.kid })
        .sign(await importJWK(sa.key, 'ES256'));
      const r = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error, 'invalid_target');
      assert.match(r.body.error_description, /resource is required/);
    });
    it("without a resource (and no DEFAULT_RESOURCE), a client's --default-resource is used; with none, API scopes are refused, not silently dropped", async () => {
      const payments = 'https://payments.example.test';
      await server.runtime.resources.create({ identifier: payments, scope: 'payments.read' });
      const withDefault = await server.runtime.clients.create({
        name: 'payouts',
        redirectUris: [],
        clientCredentials: true,
        apiScope: 'payments.read',
        defaultResource: payments,
      });
      const r = await token({ scope: 'payments.read' }, basicAuth(withDefault.client.clientId, withDefault.clientSecret!));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.scope, 'payments.read');
      const { payload } = await jwtVerify(r.body.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
        issuer: server.issuer,
        audience: payments,
        typ: 'at+jwt',
      });
      assert.equal(payload.scope, 'payments.read');

      const withoutDefault = await server.runtime.clients.create({ name: 'payouts 2', redirectUris: [], clientCredentials: true, apiScope: 'payments.read' });
      const refused = await token({ scope: 'payments.read' }, basicAuth(withoutDefault.client.clientId, withoutDefault.clientSecret!));
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_scope');
      assert.match(refused.body.error_description, /'payments\.read'.*resource=.*--default-resource/);
    });
    it('an unregistered resource is invalid_target', async () => {
      const r = await token({ resource: 'https://unknown.example.test' }, basicAuth(basic.id, basic.secret));
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_target');
      assert.match(r.body.error_description, /not registered/);
    });
    it('an app client without the grant cannot use client credentials', async () => {
      const web = await server.runtime.clients.create({ name: 'web', redirectUris: ['https://web.example.test/cb'] });
      const r = await token({}, basicAuth(web.client.clientId, web.clientSecret!));
      assert.equal(r.status, 400);
      assert.match(r.body.error_description, /grant type is not allowed/);
    });
    it('a public client cannot be created for client credentials', async () => {
      await assert.rejects(
        server.runtime.clients.create({ name: 'x', redirectUris: [], clientCredentials: true, public: true }),
        /cannot use client credentials/,
      );
    });
  });
});
