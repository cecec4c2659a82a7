// The provider's lane (src/app.ts): the busiest protocol requests skip the
// pages' and APIs' routers, and nothing a person or client sees changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import { assertLaneUnclaimed, PROVIDER_LANE } from '../src/app.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe("the provider's lane", () => {
  it('refuses to start when a router has a route at one of its addresses (that route would never be reached)', () => {
    for (const [path, methods] of PROVIDER_LANE) {
      for (const method of methods) {
        const router = new Router();
        router.register(path, [method], () => {});
        assert.throws(() => assertLaneUnclaimed([router.routes()]), new RegExp(`${method} ${path.replace(/\./g, '\\.')} belongs to the provider's lane`));
      }
    }
  });

  it('lets a router answer another method at the same address, or a page at an address of its own', () => {
    const router = new Router();
    router.get('/token', () => {});
    router.options('/jwks', () => {});
    router.get('/account/token', () => {});
    router.use(async (_ctx, next) => next());
    assertLaneUnclaimed([router.routes(), router.allowedMethods()]);
  });

  describe('on a running server', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer();
    });
    after(() => server.stop());

    const ask = async (method: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${server.url}${path}`, { method, redirect: 'manual', ...init });
      return { status: res.status, type: res.headers.get('content-type'), allow: res.headers.get('allow'), body: await res.text(), res };
    };

    it('answers its requests with everything the long way adds: a request id, security headers, the rate limit, metrics', async () => {
      const res = await ask('POST', '/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
      assert.equal(res.status, 400, res.body);
      assert.equal(JSON.parse(res.body).error, 'invalid_request');
      assert.match(res.res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(res.res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(
        server.logs.some((l) => l.includes('"path":"/token"') && l.includes('"status":400')),
        server.logs.slice(-3).join('\n'),
      );
      const jwks = await ask('GET', '/jwks');
      assert.equal(jwks.status, 200);
      assert.match(jwks.res.headers.get('cache-control') ?? '', /^public, max-age=\d+$/, "the protocol router's Cache-Control still set");
      const discovery = await ask('GET', '/.well-known/openid-configuration');
      assert.equal(JSON.parse(discovery.body).token_endpoint, `${server.issuer}/token`);
      const me = await ask('GET', '/me');
      assert.equal(me.status, 401);
    });

    it('leaves other methods at its addresses to the long way, answered as before', async () => {
      // A wrong method at the token endpoint: 405 naming the method it takes (the routers' allowedMethods).
      const get = await ask('GET', '/token');
      assert.equal(get.status, 405);
      assert.equal(get.allow, 'POST');
      // A CORS preflight is the provider's: allowed for the token endpoint, with its methods.
      const preflight = await ask('OPTIONS', '/token', { headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST' } });
      assert.equal(preflight.status, 204);
      assert.match(preflight.res.headers.get('access-control-allow-methods') ?? '', /POST/);
    });
  });
});
