// The JSON-API infrastructure (src/api/), hosted on its own with a few
// routes of the test's, against a real Latchkey server's keys, tokens and
// accounts: problem documents, field naming, bearer checks as an attacker
// would try them, and the generated OpenAPI document.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import Koa from 'koa';
import * as z from 'zod';
import { createApi, OPENAPI_PATH, type Api } from '../../src/api/index.ts';
import { defineRoute } from '../../src/api/registry.ts';
import { problem } from '../../src/api/problem.ts';
import { createLogger } from '../../src/logger.ts';
import { requestLog } from '../../src/middleware/koa-request-log.ts';
import { markUsedOnce } from '../../src/services/secrets/replay-guard.ts';
import { loadSigningJwks } from '../../src/services/secrets/signing-keys.ts';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, registerClient, createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const RESOURCE = 'https://api.infra.example.test';
const OTHER = 'https://other.example.test';

const Widget = z.object({ id: z.string(), name: z.string(), tags: z.array(z.string()) }).meta({ id: 'Widget' });
const CreateWidget = z.strictObject({
  name: z.string().min(1, 'must not be empty').max(40),
  tags: z
    .array(z.string().regex(/^[a-z]+$/, 'must be lower-case letters'))
    .max(3)
    .default([]),
  size: z.number().int().positive().optional(),
});

const routes = [
  defineRoute({
    method: 'post',
    path: '/widgets',
    operationId: 'createWidget',
    summary: 'Create a widget',
    scope: 'widgets:write',
    body: CreateWidget,
    bodyExample: { name: 'gear', tags: ['metal'] },
    responses: { 201: { description: 'created', schema: Widget, example: { id: 'w1', name: 'gear', tags: ['metal'] } } },
    handle: ({ body, caller }) => ({ status: 201, body: { id: `w-${caller.subject}`, name: body.name, tags: body.tags } }),
  }),
  defineRoute({
    method: 'get',
    path: '/widgets/{id}',
    operationId: 'getWidget',
    summary: 'One widget',
    scope: 'widgets:read',
    params: z.object({ id: z.string().regex(/^w-/, 'must start with w-') }),
    query: z.object({ verbose: z.enum(['true', 'false']).optional() }),
    responses: { 200: { description: 'the widget', schema: Widget } },
    handle: ({ params, caller }) => ({ status: 200, body: { id: params.id, name: caller.kind, tags: caller.scopes } }),
  }),
  defineRoute({
    method: 'delete',
    path: '/widgets/{id}',
    operationId: 'deleteWidget',
    summary: 'Delete',
    scope: 'widgets:write',
    responses: { 204: { description: 'gone' } },
    handle: ({ ctx }) => {
      if (ctx.params.id === 'locked') throw problem.conflict('widget locked is in use');
      if (ctx.params.id === 'boom') throw new Error('database password is hunter2 at /srv/secret');
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/status',
    operationId: 'status',
    summary: 'Public',
    scope: null,
    responses: { 200: { description: 'ok', schema: z.object({ ok: z.boolean() }) } },
    handle: () => ({ status: 200, body: { ok: true } }),
  }),
];

describe('JSON API infrastructure: problems, bearer tokens, OpenAPI', () => {
  let server: TestServer;
  let api: Api;
  let apiServer: Server;
  let base: string;
  const logs: string[] = [];
  const cc = {} as { id: string; secret: string };
  const sa = {} as { id: string; key: JWK };

  async function clientToken(resource = RESOURCE, scope = 'widgets:read widgets:write', creds = cc) {
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${creds.id}:${creds.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
    });
    const body = (await res.json()) as { access_token: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.access_token;
  }

  const call = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.headers as Record<string, string>) },
    });
  const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** A token signed with the server's real current key but claims of our choosing (what an insider with the key could mint). */
  async function mint(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const jwks = await loadSigningJwks(server.runtime.db, server.runtime.box);
    const jwk = jwks.keys.find((k) => k.alg === 'RS256' && !k.key_ops)!;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: server.issuer,
      aud: RESOURCE,
      sub: cc.id,
      client_id: cc.id,
      scope: 'widgets:read widgets:write',
      iat: now,
      exp: now + 300,
      jti: 'x',
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt', ...header })
      .sign(await importJWK(jwk, 'RS256'));
  }

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: RESOURCE, scope: 'widgets:read widgets:write', format: 'jwt' });
    await server.runtime.resources.create({ identifier: OTHER, scope: 'widgets:read widgets:write', format: 'jwt' });
    const c = await server.runtime.clients.create({ name: 'batch', redirectUris: [], clientCredentials: true, apiScope: 'widgets:read widgets:write' });
    Object.assign(cc, { id: c.client.clientId, secret: c.clientSecret });
    const s = await server.runtime.serviceAccounts.create({ name: 'robot', scope: 'widgets:read', generateKey: 'ES256' });
    Object.assign(sa, { id: s.account.clientId, key: s.privateJwk });
    const log = createLogger('info', {
      write: (chunk: string) => {
        logs.push(chunk);
        return true;
      },
    } as unknown as NodeJS.WritableStream);
    api = createApi({
      config: { issuer: server.issuer, apiResource: RESOURCE, clockSkew: 0 },
      log,
      keys: () => server.live.publicJwks,
      async subjectActive(caller) {
        if (caller.kind === 'person') return (await server.runtime.users.findActive(caller.subject)) !== undefined;
        return (await server.runtime.clients.findForProvider(caller.subject)) !== undefined;
      },
      clientActive: async (clientId) => (await server.runtime.clients.findForProvider(clientId)) !== undefined,
      proofUsedOnce: (namespace, jti, forgetAfter) => markUsedOnce(server.runtime.artifacts, namespace, jti, forgetAfter),
      routes,
      scopeDescriptions: { 'widgets:read': 'read widgets', 'widgets:write': 'change widgets' },
    });
    const app = new Koa();
    app.silent = true;
    app.use(requestLog(log));
    app.use(api.middleware);
    apiServer = createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((r) => apiServer.once('listening', r));
    base = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    apiServer?.close();
    await server?.stop();
  });

  it('a body with several bad fields: one 400 problem naming each by JSON pointer, with the request id', async () => {
    const token = await clientToken();
    const res = await call('/api/v1/widgets', {
      ...json({ name: '', tags: ['ok', 'Bad'], size: -1, colour: 'red' }),
      token,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown> & { errors: { in: string; pointer: string; field: string; detail: string }[] };
    assert.equal(body.type, 'urn:latchkey:problem:validation');
    assert.equal(body.status, 400);
    assert.equal(body.instance, '/api/v1/widgets');
    assert.equal(body.request_id, 'req-42');
    assert.equal(res.headers.get('x-request-id'), 'req-42');
    assert.equal(typeof body.title, 'string');
    const byPointer = Object.fromEntries(body.errors.map((e) => [e.pointer, e]));
    assert.deepEqual(Object.keys(byPointer).sort(), ['#/colour', '#/name', '#/size', '#/tags/1']);
    assert.equal(byPointer['#/name']!.detail, 'must not be empty');
    assert.equal(byPointer['#/tags/1']!.field, 'tags.1');
    assert.equal(byPointer['#/tags/1']!.detail, 'must be lower-case letters');
    assert.equal(byPointer['#/colour']!.detail, 'is not a known field');
    assert.ok(body.errors.every((e) => e.in === 'body'));
    assert.match(String(body.detail), /name: must not be empty/);
  });

  it('a valid body goes through, with defaults applied', async () => {
    const res = await call('/api/v1/widgets', { ...json({ name: 'gear' }), token: await clientToken() });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { id: `w-${cc.id}`, name: 'gear', tags: [] });
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('malformed JSON, a wrong media type, an unknown path and a wrong method are problems too', async () => {
    const token = await clientToken();
    const bad = await call('/api/v1/widgets', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { errors: { pointer: string }[] }).errors[0]!.pointer, '#');
    const form = await call('/api/v1/widgets', { method: 'POST', token, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x' });
    assert.equal(form.status, 415);
    assert.equal(((await form.json()) as { type: string }).type, 'urn:latchkey:problem:unsupported-media-type');
    const missing = await call('/api/v1/nothing-here');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type')!, /problem\+json/);
    const outside = await call('/api/v2/widgets');
    assert.equal(outside.status, 404);
    const method = await call('/api/v1/widgets/w-1', { method: 'PUT', token });
    assert.equal(method.status, 405);
    assert.equal(method.headers.get('allow'), 'GET, DELETE');
  });

  it('path and query parameters are validated and named with where they were', async () => {
    const token = await clientToken();
    const res = await call('/api/v1/widgets/nope?verbose=maybe', { token });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: { in: string; pointer: string }[] };
    assert.deepEqual(
      body.errors.map((e) => `${e.in} ${e.pointer}`),
      ['path #/id'],
    );
    const q = await call('/api/v1/widgets/w-1?verbose=maybe', { token });
    assert.equal(q.status, 400);
    assert.deepEqual(
      ((await q.json()) as { errors: { in: string; pointer: string }[] }).errors.map((e) => `${e.in} ${e.pointer}`),
      ['query #/verbose'],
    );
  });

  it('a service error keeps its status; an unexpected one is a bare 500 with nothing internal in it, logged with the request id', async () => {
    const token = await clientToken();
    const conflict = await call('/api/v1/widgets/locked', { method: 'DELETE', token });
    assert.equal(conflict.status, 409);
    assert.equal(((await conflict.json()) as { detail: string }).detail, 'widget locked is in use');
    const boom = await call('/api/v1/widgets/boom', { method: 'DELETE', token, headers: { 'x-request-id': 'boom-1' } });
    assert.equal(boom.status, 500);
    const text = await boom.text();
    assert.doesNotMatch(text, /hunter2|secret|at .*\.ts|Error:/);
    assert.equal((JSON.parse(text) as { request_id: string }).request_id, 'boom-1');
    assert.ok(logs.some((l) => l.includes('unhandled API error') && l.includes('boom-1')));
  });

  it('no token: 401 with bare Bearer and DPoP challenges; a public route needs none', async () => {
    const res = await call('/api/v1/widgets/w-1');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="latchkey", DPoP realm="latchkey", algs="ES256 EdDSA Ed25519"');
    assert.equal((await call('/api/v1/status')).status, 200);
  });

  it('refused before validation: an anonymous caller learns nothing about the body', async () => {
    const res = await call('/api/v1/widgets', json({ colour: 'red' }));
    assert.equal(res.status, 401);
  });

  it('a token for another API, garbage, a forged and an expired one: 401 invalid_token', async () => {
    const otherAudience = await clientToken(OTHER);
    const forgedKey = (await generateKeyPair('RS256')).privateKey;
    const realKid = server.live.signingKids[0]!;
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ iss: server.issuer, aud: RESOURCE, sub: cc.id, client_id: cc.id, scope: 'widgets:read', exp: now + 300, iat: now })
      .setProtectedHeader({ alg: 'RS256', kid: realKid, typ: 'at+jwt' })
      .sign(forgedKey);
    const cases: [string, string, RegExp][] = [
      ['other audience', otherAudience, /not for this API/],
      ['forged signature', forged, /signature/],
      ['expired', await mint({ exp: now - 5, iat: now - 100 }), /expired/],
      ['other issuer', await mint({ iss: 'https://evil.example.test' }), /not issued by this server/],
      ['an ID token shape', await mint({}, { typ: 'JWT' }), /at\+jwt/],
      ['garbage', 'not-a-jwt', /not a JWT access token/],
      [
        'alg none',
        `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(
          JSON.stringify({ iss: server.issuer, aud: RESOURCE, sub: cc.id, client_id: cc.id, scope: 'widgets:read', exp: now + 60 }),
        ).toString('base64url')}.`,
        /not a JWT access token/,
      ],
    ];
    for (const [label, token, reason] of cases) {
      const res = await call('/api/v1/widgets/w-1', { token });
      assert.equal(res.status, 401, label);
      const challenge = res.headers.get('www-authenticate')!;
      assert.match(challenge, /^Bearer realm="latchkey", error="invalid_token", error_description="/, label);
      assert.match(((await res.json()) as { detail: string }).detail, reason, label);
    }
  });

  it("a valid token without the operation's scope: 403 insufficient_scope naming the scope", async () => {
    const token = await clientToken(RESOURCE, 'widgets:read');
    const res = await call('/api/v1/widgets', { ...json({ name: 'x' }), token });
    assert.equal(res.status, 403);
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer realm="latchkey", error="insufficient_scope", scope="widgets:write", error_description="requires scope widgets:write"',
    );
    assert.equal(((await res.json()) as { type: string }).type, 'urn:latchkey:problem:forbidden');
  });

  it("a disabled service account's unexpired token is refused at once", async () => {
    const assertion = await new SignJWT({ iss: sa.id, sub: sa.id, aud: `${server.issuer}/token`, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: sa.key.kid })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(await importJWK(sa.key, 'ES256'));
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, resource: RESOURCE }),
    });
    const { access_token: token } = (await res.json()) as { access_token: string };
    assert.equal((await call('/api/v1/widgets/w-1', { token })).status, 200);
    await server.runtime.serviceAccounts.setDisabled(sa.id, true);
    const after = await call('/api/v1/widgets/w-1', { token });
    assert.equal(after.status, 401);
    assert.match(((await after.json()) as { detail: string }).detail, /disabled or deleted/);
  });

  it("a person's token works as that person until the person is disabled", async () => {
    const person = await createUser(server);
    const app = await registerClient(server, { apiScope: 'widgets:read' });
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { resource: RESOURCE, scope: 'openid widgets:read' });
    const res = await call('/api/v1/widgets/w-1', { token: tokens.access_token });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: 'w-1', name: 'person', tags: ['widgets:read'] });
    await server.runtime.users.setDisabled(person.id, true);
    assert.equal((await call('/api/v1/widgets/w-1', { token: tokens.access_token })).status, 401);
  });

  it('the OpenAPI document is valid OpenAPI 3.1, generated from the same schemas', async () => {
    const res = await call(OPENAPI_PATH);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Record<string, any>;
    const result = await new Validator().validate(doc);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 1));
    assert.equal(doc.openapi, '3.1.0');
    const create = doc.paths['/widgets'].post;
    assert.deepEqual(create.security, [{ latchkey: ['widgets:write'] }]);
    assert.equal(create.requestBody.content['application/json'].schema.$ref, '#/components/schemas/CreateWidgetRequest');
    const body = doc.components.schemas.CreateWidgetRequest;
    assert.deepEqual(body.required, ['name']);
    assert.equal(body.additionalProperties, false);
    assert.equal(create.responses['201'].content['application/json'].schema.$ref, '#/components/schemas/Widget');
    assert.equal(create.responses['400'].content['application/problem+json'].schema.$ref, '#/components/schemas/Problem');
    assert.deepEqual(
      doc.paths['/widgets/{id}'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`),
      ['path:id', 'query:verbose'],
    );
    assert.deepEqual(Object.keys(doc.components.securitySchemes.latchkey.flows.clientCredentials.scopes), ['widgets:read', 'widgets:write']);
    assert.deepEqual(doc.paths['/status'].get.security, []);
    // Every reference resolves.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) assert.ok(doc.components.schemas[ref], `dangling $ref ${ref}`);
  });
});

describe('JSON API in the running server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('serves a valid OpenAPI document at /api/v1/openapi.json, and problems (never pages) under /api', async () => {
    const res = await fetch(`${server.url}${OPENAPI_PATH}`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { servers: { url: string }[] };
    assert.ok((await new Validator().validate(doc as never)).valid);
    assert.equal(doc.servers[0]!.url, `${server.issuer}/api/v1`);
    for (const path of ['/api', '/api/v1/nothing', '/api/other']) {
      const r = await fetch(`${server.url}${path}`, { headers: { accept: 'text/html' } });
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get('content-type')!, /^application\/problem\+json/, path);
    }
  });
});
