// The provider's lane (src/app.ts): the busiest protocol requests skip the
// pages' and APIs' routers, and nothing a person or client sees changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import type Koa from 'koa';
import { assertLaneUnclaimed, PROVIDER_LANE, providerLane } from '../src/app.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe("the provider's lane", () => {
  it('refuses to start when a router has a route at one of its addresses (that route would never be reached)', () => {
    for (const [path, methods] of PROVIDER_LANE) {
      for (const method of methods) {
        const router = new Router();
        router.register(path, [method], () => {});
        assert.throws(() => assertLaneUnclaimed([router.routes()]), {
          message: `${method} ${path} belongs to the provider's lane (src/app.ts), but a router answers it too`,
        });
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

  it('takes exactly its requests to the protocol, which ends there: nothing after it runs, even if the protocol passes one on', async () => {
    const through = async (method: string, path: string) => {
      let protocol = 0;
      let rest = 0;
      const lane = providerLane(async (_ctx, next) => {
        protocol++;
        await next();
      });
      await lane({ method, path } as Koa.Context, async () => {
        rest++;
      });
      return { protocol, rest };
    };
    for (const [path, methods] of PROVIDER_LANE) {
      for (const method of methods) assert.deepEqual(await through(method, path), { protocol: 1, rest: 0 }, `${method} ${path}`);
    }
    // Anything else takes the long way, where the pages and the APIs are offered it first.
    for (const [method, path] of [
      ['GET', '/token'],
      ['OPTIONS', '/token'],
      ['HEAD', '/jwks'],
      ['POST', '/Token'],
      ['POST', '/token/'],
      ['POST', '/%74oken'],
      ['GET', '/auth'],
      ['GET', '/account'],
    ] as const) {
      assert.deepEqual(await through(method, path), { protocol: 0, rest: 1 }, `${method} ${path}`);
    }
  });

  describe('on a running server', () => {
    let server: TestServer;
    before(async () => {
      // Tight quotas, and addresses from X-Forwarded-For (as behind a proxy), to see the limits the lane must keep.
      server = await startTestServer({ RATE_LIMIT_TOKEN: '3/60', RATE_LIMIT_INTROSPECTION: '3/60', TRUST_PROXY: 'true' });
    });
    after(() => server.stop());

    const ask = async (method: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${server.url}${path}`, { method, redirect: 'manual', ...init });
      return { status: res.status, allow: res.headers.get('allow'), body: await res.text(), res };
    };

    it('answers with all the listener adds (a request id, security headers, one log line) and the protocol router its own headers', async () => {
      const res = await ask('POST', '/token', { headers: { ...form, 'x-forwarded-for': '198.51.100.1' }, body: 'grant_type=client_credentials' });
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
      assert.match(jwks.res.headers.get('cache-control') ?? '', /^public, max-age=\d+$/, "the protocol router's Cache-Control");
      const discovery = await ask('GET', '/.well-known/openid-configuration');
      assert.equal(JSON.parse(discovery.body).token_endpoint, `${server.issuer}/token`);
      assert.equal((await ask('GET', '/me')).status, 401);
      assert.equal((await ask('POST', '/me')).status, 401);
    });

    it('keeps the rate limits: a burst at the token, introspection and revocation endpoints from one address is refused past the quota', async () => {
      for (const path of ['/token', '/token/introspection', '/token/revocation']) {
        const from = `203.0.113.${path.length}`;
        const burst = await Promise.all(
          Array.from({ length: 5 }, () => ask('POST', path, { headers: { ...form, 'x-forwarded-for': from }, body: 'token=x&grant_type=client_credentials' })),
        );
        const refused = burst.filter((r) => r.status === 429);
        assert.equal(refused.length, 2, `${path}: ${burst.map((r) => r.status)}`);
        assert.match(JSON.parse(refused[0]!.body).error_description, /too many requests from this address: at most 3 per 60 s/);
      }
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
