// Every request is served for the configured issuer only: a forged Host (or,
// behind a trusted proxy, X-Forwarded-Host / -Proto) cannot make the server
// speak as another name or accept an assertion addressed to another server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { importJWK, SignJWT, type JWK } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** fetch() cannot set Host; an attacker's client can. */
function raw(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const url = new URL(base);
  // `path` is sent as the request target exactly as given (absolute-form included).
  return new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('requests are served for the configured issuer only', () => {
  let server: TestServer;
  const sa = {} as { id: string; key: JWK };
  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: 'https://api.example.test', scope: 'api.read', format: 'opaque' });
    const s = await server.runtime.serviceAccounts.create({ name: 'exporter', scope: 'api.read', generateKey: 'ES256' });
    Object.assign(sa, { id: s.account.clientId, key: s.privateJwk });
  });
  after(() => server.stop());

  const assertion = async (aud: string) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: sa.id, sub: sa.id, aud, iat: now, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: sa.key.kid })
      .sign(await importJWK(sa.key, 'ES256'));
  };
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

  it('discovery addressed to another host is refused, never answered with that host in its URLs', async () => {
    const r = await raw(server.url, '/.well-known/openid-configuration', { headers: { host: 'evil.example' } });
    assert.equal(r.status, 400, r.body);
    assert.doesNotMatch(r.body, /evil\.example/);
    assert.deepEqual(JSON.parse(r.body), { error: 'invalid_request', error_description: `requests must be addressed to ${server.issuer} (the issuer)` });
    const right = await raw(server.url, '/.well-known/openid-configuration', { headers: { host: new URL(server.issuer).host } });
    assert.equal(JSON.parse(right.body).authorization_endpoint, `${server.issuer}/auth`);
  });

  it('a Host the URL parser reads as the issuer but Koa uses as given (a path, a backslash, a query) is refused', async () => {
    const host = new URL(server.issuer).host;
    for (const forged of [`${host}/evil`, `${host}\\evil`, `${host}?evil`, `${host}#evil`]) {
      const r = await raw(server.url, '/.well-known/openid-configuration', { headers: { host: forged } });
      assert.equal(r.status, 400, `Host ${forged}: ${r.status} ${r.body.slice(0, 200)}`);
      assert.doesNotMatch(r.body, /evil/);
    }
    // User info Koa itself takes off the host: answered, as the issuer.
    const userInfo = await raw(server.url, '/.well-known/openid-configuration', { headers: { host: `evil@${host}` } });
    assert.doesNotMatch(userInfo.body, /evil/);
    // The issuer's own host in another case is the same origin, and served as the issuer.
    const upper = await raw(server.url, '/.well-known/openid-configuration', { headers: { host: host.toUpperCase() } });
    assert.equal(upper.status, 200, upper.body.slice(0, 200));
    assert.equal(JSON.parse(upper.body).issuer, server.issuer);
  });

  it('a client assertion addressed to another server is not accepted here, whatever Host the request carries', async () => {
    const other = 'http://other-as.example/token';
    const viaForgedHost = await raw(server.url, '/token', {
      method: 'POST',
      headers: { host: 'other-as.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        grant_type: 'client_credentials',
        resource: 'https://api.example.test',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion(other),
      }),
    });
    assert.equal(viaForgedHost.status, 400, viaForgedHost.body);
    assert.doesNotMatch(viaForgedHost.body, /access_token/);
    const viaRightHost = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        grant_type: 'client_credentials',
        resource: 'https://api.example.test',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion(other),
      }),
    });
    assert.equal(viaRightHost.status, 401);
    assert.equal(((await viaRightHost.json()) as { error: string }).error, 'invalid_client');
  });

  it('a client assertion is accepted for the issuer or the token endpoint only, not for the endpoint it is sent to', async () => {
    const token = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        grant_type: 'client_credentials',
        resource: 'https://api.example.test',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion(server.issuer),
      }),
    });
    const accessToken = ((await token.json()) as { access_token: string }).access_token;
    assert.ok(accessToken);
    const introspect = async (aud: string) => {
      const res = await fetch(`${server.issuer}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ token: accessToken, client_id: sa.id, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(aud) }),
      });
      return { status: res.status, body: (await res.json()) as { active?: boolean; error?: string; error_description?: string } };
    };
    const toEndpoint = await introspect(`${server.issuer}/token/introspection`);
    assert.equal(toEndpoint.status, 401, JSON.stringify(toEndpoint.body));
    assert.equal(toEndpoint.body.error, 'invalid_client');
    for (const aud of [server.issuer, `${server.issuer}/token`]) {
      const ok = await introspect(aud);
      assert.equal(ok.body.active, true, `${aud}: ${JSON.stringify(ok.body)}`);
    }
  });

  it('an absolute-form request target naming another host is refused, not reflected in the URLs', async () => {
    const r = await raw(server.url, 'http://evil.example/.well-known/openid-configuration', { headers: { host: new URL(server.issuer).host } });
    assert.equal(r.status, 400, r.body);
    assert.doesNotMatch(r.body, /evil\.example/);
  });

  it('a page addressed to another host gets a friendly page naming the right address; health probes answer any host', async () => {
    const page = await raw(server.url, '/account', { headers: { host: 'evil.example', accept: 'text/html' } });
    assert.equal(page.status, 400);
    assert.match(page.type, /html/);
    assert.match(page.body, new RegExp(`answers only at ${server.issuer.replace(/[.]/g, '\\.')}`));
    for (const path of ['/healthz', '/readyz']) assert.equal((await raw(server.url, path, { headers: { host: '10.0.0.7:3000' } })).status, 200, path);
  });
});

describe('behind a trusted proxy, the forwarded scheme and host must be the issuer’s', () => {
  let server: TestServer;
  const issuer = 'https://id.example.test';
  before(async () => {
    server = await startTestServer({ ISSUER: issuer, TRUST_PROXY: 'true' });
  });
  after(() => server.stop());

  it('X-Forwarded-Host or X-Forwarded-Proto naming anything else is refused', async () => {
    const discovery = (headers: Record<string, string>) => raw(server.url, '/.well-known/openid-configuration', { headers });
    const good = await discovery({ host: '127.0.0.1', 'x-forwarded-host': 'id.example.test', 'x-forwarded-proto': 'https' });
    assert.equal(good.status, 200, good.body);
    assert.equal(JSON.parse(good.body).token_endpoint, `${issuer}/token`);
    for (const headers of [
      { host: 'id.example.test', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      { host: 'id.example.test', 'x-forwarded-host': 'evil.example, id.example.test', 'x-forwarded-proto': 'https' },
      { host: 'id.example.test', 'x-forwarded-host': 'id.example.test', 'x-forwarded-proto': 'http' },
      { host: 'id.example.test' },
    ] as Record<string, string>[]) {
      const r = await discovery(headers);
      assert.equal(r.status, 400, `${JSON.stringify(headers)} → ${r.status} ${r.body}`);
      assert.doesNotMatch(r.body, /evil/);
    }
  });
});
