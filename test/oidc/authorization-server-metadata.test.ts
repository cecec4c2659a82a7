// RFC 8414 metadata beside the OpenID configuration (oidc-provider serves
// both from one route handler; this holds it to that), and a discovery
// document that tells the truth: what it advertises is accepted, and what
// it leaves out is refused, and each language it lists is one the pages speak.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, type Page } from '../helpers/browser.ts';
import { authRequest, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('authorization-server metadata (RFC 8414) and truthful discovery', () => {
  let server: TestServer;
  let client: TestClient;
  let discovery: Record<string, unknown>;

  before(async () => {
    server = await startTestServer();
    client = await registerClient(server, { name: 'Discovery' });
    discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  });
  after(async () => {
    await server?.stop();
  });

  it("serves /.well-known/oauth-authorization-server with exactly the OpenID configuration's values", async () => {
    const res = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const metadata = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(metadata, discovery);
    assert.equal(metadata.issuer, server.issuer, 'RFC 8414 §3.3: the issuer is the one the document was fetched for');
    // Only reads: a post there is no discovery request.
    assert.notEqual((await fetch(`${server.issuer}/.well-known/oauth-authorization-server`, { method: 'POST' })).status, 200);
  });

  it('every endpoint it advertises answers', async () => {
    const endpoints = Object.entries(discovery).filter(([k]) => k.endsWith('_endpoint') || k === 'jwks_uri');
    assert.ok(endpoints.length >= 9, endpoints.map(([k]) => k).join(' '));
    for (const [name, url] of endpoints) {
      assert.ok(String(url).startsWith(`${server.issuer}/`), `${name} is on the issuer`);
      const get = await fetch(String(url), { redirect: 'manual' });
      const post = await fetch(String(url), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      assert.ok(get.status !== 404 || post.status !== 404, `${name} (${String(url)}) answers`);
    }
  });

  it('grant_types_supported is what the token endpoint accepts; an unlisted grant is unsupported_grant_type', async () => {
    const grants = discovery.grant_types_supported as string[];
    const token = async (grantType: string) => {
      const res = await fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: grantType }),
      });
      return ((await res.json()) as { error: string }).error;
    };
    for (const grant of grants) assert.notEqual(await token(grant), 'unsupported_grant_type', grant);
    for (const grant of ['password', 'implicit', 'urn:openid:params:grant-type:ciba']) {
      assert.ok(!grants.includes(grant));
      assert.equal(await token(grant), 'unsupported_grant_type', grant);
    }
  });

  it('response types, PKCE methods and the claims parameter: what is not advertised is refused or ignored', async () => {
    assert.deepEqual(discovery.response_types_supported, ['code']);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    const authorize = async (params: Record<string, string>) => {
      const url = new URL(`${server.issuer}/auth`);
      const all = {
        client_id: client.clientId,
        redirect_uri: client.redirectUri,
        response_type: 'code',
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
        ...params,
      };
      for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v);
      const res = await fetch(url, { redirect: 'manual' });
      const location = res.headers.get('location');
      return location ? new URL(location, server.issuer) : undefined;
    };
    assert.equal((await authorize({}))?.searchParams.get('error'), null, 'the advertised combination is accepted');
    assert.equal((await authorize({ code_challenge_method: 'plain' }))?.searchParams.get('error'), 'invalid_request');
    const token = await authorize({ response_type: 'token' });
    assert.equal(token?.searchParams.get('error') ?? new URLSearchParams(token?.hash.slice(1)).get('error'), 'unsupported_response_type');
    // claims_parameter_supported: false — a request with one is not refused, its claims are not honoured.
    assert.equal(discovery.claims_parameter_supported, false);
  });

  it('ui_locales_supported lists the languages of the pages, and each one an app asks for is the sign-in page it gets', async () => {
    const languages = discovery.ui_locales_supported as string[];
    assert.deepEqual([...languages].sort(), ['de', 'en', 'es', 'fr']);
    for (const tag of languages) {
      const login = (await new Browser(server.url).navigate((await authRequest(client, { ui_locales: tag })).url.href)) as Page;
      assert.equal(login.status, 200, tag);
      assert.match(login.html, new RegExp(`<html lang="${tag}"`), `ui_locales=${tag}`);
    }
  });
});
