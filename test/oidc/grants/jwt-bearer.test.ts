// RFC 7523 jwt-bearer: assertions signed from the outside with jose and
// exchanged over HTTP exactly as the reference integrators do (grant_type and
// assertion, nothing else).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, createRemoteJWKSet, exportJWK, exportSPKI, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { Pool } from 'undici';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const API = 'https://cmdb.example.test';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

type Body = { access_token: string; token_type: string; expires_in: number; scope?: string; refresh_token?: string; error: string; error_description: string };

describe('jwt-bearer grant (RFC 7523)', () => {
  let server: TestServer;
  let tokenUrl: string;
  const es = {} as { id: string; key: JWK };
  const rs = {} as { id: string; key: CryptoKey; kid: string; publicPem: string };
  const ed = {} as { id: string; key: JWK };
  const hs = {} as { id: string; secret: string };

  before(async () => {
    server = await startTestServer({ DEFAULT_RESOURCE: API });
    tokenUrl = `${server.issuer}/token`;
    await server.runtime.resources.create({ identifier: API, scope: 'cmdb.read cmdb.write cmdb.admin', format: 'jwt', ttl: 600 });
    await server.runtime.resources.create({ identifier: 'https://opaque.example.test', scope: 'cmdb.read', format: 'opaque' });

    const sa = server.runtime.serviceAccounts;
    const esAcc = await sa.create({ name: 'inventory-sync', scope: 'cmdb.read cmdb.write', defaultScope: 'cmdb.read', generateKey: 'ES256' });
    Object.assign(es, { id: esAcc.account.clientId, key: esAcc.privateJwk! });

    const pair = await generateKeyPair('RS256', { extractable: true });
    const pub = { ...(await exportJWK(pair.publicKey)), kid: 'rsa-2026', alg: 'RS256' };
    const rsAcc = await sa.create({ name: 'reporting', scope: 'cmdb.read', jwks: [pub] });
    Object.assign(rs, { id: rsAcc.account.clientId, key: pair.privateKey, kid: 'rsa-2026', publicPem: await exportSPKI(pair.publicKey) });

    const edAcc = await sa.create({ name: 'edge', scope: 'cmdb.read', generateKey: 'EdDSA' });
    Object.assign(ed, { id: edAcc.account.clientId, key: edAcc.privateJwk! });

    const hsAcc = await sa.create({ name: 'partner', scope: 'cmdb.read', sharedSecret: true });
    Object.assign(hs, { id: hsAcc.account.clientId, secret: hsAcc.sharedSecret! });
  });
  after(() => server.stop());

  const now = () => Math.floor(Date.now() / 1000);

  async function sign(
    who: { id: string },
    opts: { claims?: Record<string, unknown>; header?: Record<string, unknown>; alg?: string; key?: CryptoKey | Uint8Array | JWK; omit?: string[] } = {},
  ): Promise<string> {
    const base: Record<string, unknown> = { iss: who.id, sub: who.id, aud: tokenUrl, iat: now(), exp: now() + 300, jti: randomUUID() };
    for (const k of opts.omit ?? []) delete base[k];
    const claims = { ...base, ...opts.claims };
    let key = opts.key;
    let alg = opts.alg;
    let kid: string | undefined;
    if (!key) {
      if (who === hs) [key, alg] = [new TextEncoder().encode(hs.secret), 'HS256'];
      else if (who === rs) [key, alg, kid] = [rs.key, 'RS256', rs.kid];
      else {
        const jwk = (who as typeof es).key;
        [key, alg, kid] = [await importJWK(jwk, jwk.alg), jwk.alg, jwk.kid];
      }
    } else if (!(key instanceof Uint8Array) && 'kty' in key) {
      kid = (key as JWK).kid;
      key = (await importJWK(key as JWK, alg)) as CryptoKey;
    }
    return new SignJWT(claims).setProtectedHeader({ alg: alg!, ...(kid ? { kid } : {}), ...opts.header }).sign(key);
  }

  async function exchange(assertion: string, extra: Record<string, string> = {}) {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion, ...extra }),
    });
    return { status: res.status, body: (await res.json()) as Body };
  }

  async function refused(assertion: string, error: string, description: RegExp, extra: Record<string, string> = {}) {
    const r = await exchange(assertion, extra);
    assert.equal(r.status, error === 'invalid_client' ? 401 : 400, JSON.stringify(r.body));
    assert.equal(r.body.error, error, JSON.stringify(r.body));
    assert.match(r.body.error_description, description);
    assert.equal(r.body.access_token, undefined);
  }

  describe('accepted assertions', () => {
    for (const [label, who] of [
      ['ES256', es],
      ['RS256', rs],
      ['EdDSA', ed],
      ['HS256 (shared secret)', hs],
    ] as const) {
      it(`${label}: a JWT access token for the default resource that verifies against the JWKS`, async () => {
        const r = await exchange(await sign(who));
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.token_type, 'Bearer');
        assert.equal(r.body.refresh_token, undefined);
        assert.ok(r.body.expires_in > 0 && r.body.expires_in <= 600);
        assert.equal(r.body.scope, 'cmdb.read');

        const { payload, protectedHeader } = await jwtVerify(r.body.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
          issuer: server.issuer,
          audience: API,
          typ: 'at+jwt',
        });
        assert.equal(protectedHeader.typ, 'at+jwt');
        assert.equal(payload.sub, who.id);
        assert.equal(payload.client_id, who.id);
        assert.equal(payload.scope, 'cmdb.read');
        assert.ok(payload.jti && payload.iat && payload.exp);
      });
    }

    it('the audience may be the issuer instead of the token endpoint; scope can be asked for within the allowed list', async () => {
      const r = await exchange(await sign(es, { claims: { aud: server.issuer } }), { scope: 'cmdb.read cmdb.write' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.scope, 'cmdb.read cmdb.write');
    });

    it('a client_id equal to the issuer may be sent alongside', async () => {
      const r = await exchange(await sign(es), { client_id: es.id });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    });

    it('the self-signed style: clientId instead of iss/sub (reference API C), with aud and jti', async () => {
      const r = await exchange(await sign(hs, { omit: ['iss', 'sub'], claims: { clientId: hs.id } }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
    });

    it('a resource asked for with the resource parameter gets its own format: opaque, checked by introspection', async () => {
      const r = await exchange(await sign(es), { resource: 'https://opaque.example.test' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.access_token.split('.').length, 1, 'opaque');
      const { clientId, clientSecret } = await (async () => {
        const { client, clientSecret } = await server.runtime.clients.create({
          name: 'CMDB API',
          redirectUris: [],
          resourceServers: ['https://opaque.example.test'],
        });
        return { clientId: client.clientId, clientSecret: clientSecret! };
      })();
      const intro = await fetch(`${server.issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token: r.body.access_token }),
      });
      const info = (await intro.json()) as Record<string, unknown>;
      assert.equal(info.active, true);
      assert.equal(info.client_id, es.id);
      assert.equal(info.aud, 'https://opaque.example.test');
      const anonymous = await fetch(`${server.issuer}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: r.body.access_token }),
      });
      assert.equal(anonymous.status, 400, 'introspection requires an authenticated client');
    });

    it('two active keys: an account rolls its key without downtime, and a removed key stops working', async () => {
      const next = await generateKeyPair('ES256', { extractable: true });
      const nextJwk = { ...(await exportJWK(next.publicKey)), kid: 'roll-2', alg: 'ES256' };
      await server.runtime.serviceAccounts.addKeys(es.id, [nextJwk]);
      const withNew = await sign(es, { key: next.privateKey, alg: 'ES256', header: { kid: 'roll-2' } });
      assert.equal((await exchange(withNew)).status, 200);
      assert.equal((await exchange(await sign(es))).status, 200, 'the old key still works');
      await server.runtime.serviceAccounts.removeKey(es.id, 'roll-2');
      await refused(
        await sign(es, { key: next.privateKey, alg: 'ES256', header: { kid: 'roll-2' } }),
        'invalid_grant',
        /no registered key matches kid 'roll-2'/,
      );
    });
  });

  describe('refusals, each with its reason', () => {
    it('expired', async () => {
      await refused(await sign(es, { claims: { iat: now() - 600, exp: now() - 120 } }), 'invalid_grant', /^assertion expired 12\d s ago$/);
    });
    it('iat in the future beyond the skew', async () => {
      await refused(
        await sign(es, { claims: { iat: now() + 300, exp: now() + 600 } }),
        'invalid_grant',
        /iat is (299|30\d) s in the future; at most 60 s of clock skew/,
      );
    });
    it('lifetime longer than allowed', async () => {
      await refused(await sign(es, { claims: { exp: now() + 7200 } }), 'invalid_grant', /assertion lifetime is 720\d s \(exp − iat\); at most 3600 s/);
    });
    it('not yet valid (nbf)', async () => {
      await refused(await sign(es, { claims: { nbf: now() + 200 } }), 'invalid_grant', /not valid for another (199|20\d) s \(nbf\)/);
    });
    it('missing exp', async () => {
      await refused(await sign(es, { omit: ['exp'] }), 'invalid_grant', /exp is required/);
    });
    it('missing jti', async () => {
      await refused(await sign(es, { omit: ['jti'] }), 'invalid_grant', /jti is required/);
    });
    it('replayed jti', async () => {
      const a = await sign(es);
      assert.equal((await exchange(a)).status, 200);
      await refused(a, 'invalid_grant', /jti '.+' was already used/);
    });
    it('the same jti raced from 10 parallel requests is accepted once', async () => {
      const a = await sign(es);
      const results = await Promise.all(Array.from({ length: 10 }, () => exchange(a)));
      assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(','));
    });
    it("the assertion-only view is the asserting request's alone: raced by requests that name the account and prove nothing", async () => {
      // An assertion alone authenticates its account as a client with no credentials (token_endpoint_auth_method none),
      // for that request only. Requests naming the same account without any proof, sent in between, must stay refused.
      const post = async (path: string, body: Record<string, string>) => {
        const res = await fetch(`${server.issuer}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(body),
        });
        return { status: res.status, body: (await res.json()) as Body };
      };
      const issued = (await exchange(await sign(es))).body.access_token;
      const assertions = await Promise.all(Array.from({ length: 12 }, () => sign(es)));
      const bare = { client_id: es.id };
      const results = await Promise.all(
        assertions.flatMap((a) => [
          exchange(a).then((r) => ({ kind: 'assertion', ...r })),
          post('/token', { grant_type: 'client_credentials', ...bare }).then((r) => ({ kind: 'client_credentials', ...r })),
          post('/token/introspection', { token: issued, ...bare }).then((r) => ({ kind: 'introspection', ...r })),
          post('/token/revocation', { token: issued, ...bare }).then((r) => ({ kind: 'revocation', ...r })),
        ]),
      );
      const summary = results.map((r) => `${r.kind} ${r.status} ${r.body.error ?? ''}`).join('; ');
      assert.equal(results.filter((r) => r.kind === 'assertion' && r.status === 200).length, 12, summary);
      for (const r of results.filter((x) => x.kind !== 'assertion')) {
        assert.equal(r.status, 401, summary);
        assert.equal(r.body.error, 'invalid_client', summary);
      }
      // One kept-alive connection: an assertion's exchange, then a request on the same socket that proves nothing.
      const socket = new Pool(server.issuer, { connections: 1, pipelining: 1 });
      try {
        for (let i = 0; i < 3; i++) {
          const ok = await socket.request({
            method: 'POST',
            path: '/token',
            headers: FORM,
            body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: await sign(es) }).toString(),
          });
          assert.equal(ok.statusCode, 200, await ok.body.text());
          const next = await socket.request({
            method: 'POST',
            path: '/token',
            headers: FORM,
            body: new URLSearchParams({ grant_type: 'client_credentials', ...bare }).toString(),
          });
          assert.equal(next.statusCode, 401, await next.body.text());
        }
      } finally {
        await socket.close();
      }
    });
    it('wrong aud', async () => {
      await refused(
        await sign(es, { claims: { aud: 'https://someone-else.example/token' } }),
        'invalid_grant',
        new RegExp(`aud must be ${tokenUrl.replace(/[.]/g, '\\.')} or`),
      );
    });
    it('missing aud', async () => {
      await refused(await sign(es, { omit: ['aud'] }), 'invalid_grant', /aud is required: use http/);
    });
    it('sub different from iss', async () => {
      await refused(await sign(es, { claims: { sub: 'someone-else' } }), 'invalid_grant', /sub must equal iss/);
    });
    it('missing sub', async () => {
      await refused(await sign(es, { omit: ['sub'] }), 'invalid_grant', /sub is required and must equal iss/);
    });
    it("iss of another service account (signed with this one's key)", async () => {
      await refused(await sign(es, { claims: { iss: rs.id, sub: rs.id } }), 'invalid_grant', new RegExp(`no registered key matches kid '${es.key.kid}'`));
    });
    it('an unknown iss', async () => {
      await refused(await sign(es, { claims: { iss: 'sa_nobody', sub: 'sa_nobody' } }), 'invalid_client', /^client not found$/);
    });
    it('a client_id that differs from iss', async () => {
      await refused(await sign(es), 'invalid_request', /client_id 'x' does not match the assertion's issuer/, { client_id: 'x' });
    });
    it('unknown kid', async () => {
      await refused(await sign(es, { header: { kid: 'nope' } }), 'invalid_grant', /no registered key matches kid 'nope'/);
    });
    it('signed by a key that is not registered (same kid)', async () => {
      const other = await generateKeyPair('ES256');
      await refused(
        await sign(es, { key: other.privateKey, alg: 'ES256', header: { kid: es.key.kid } }),
        'invalid_grant',
        /signature verification failed against key/,
      );
    });
    it('disabled account', async () => {
      const acc = await server.runtime.serviceAccounts.create({ name: 'soon-disabled', scope: 'cmdb.read', generateKey: 'ES256' });
      const who = { id: acc.account.clientId, key: acc.privateJwk! };
      assert.equal((await exchange(await sign(who))).status, 200);
      await server.runtime.serviceAccounts.setDisabled(who.id, true);
      await refused(await sign(who), 'invalid_client', /client not found/);
    });
    it('scope beyond the allowed list', async () => {
      await refused(await sign(es), 'invalid_scope', /scope 'cmdb.admin' is not allowed for this service account; allowed: cmdb.read cmdb.write/, {
        scope: 'cmdb.read cmdb.admin',
      });
    });
    it('a key account naming itself with clientId alone (no iss, no sub) is refused', async () => {
      await refused(
        await sign(es, { omit: ['iss', 'sub'], claims: { clientId: es.id } }),
        'invalid_grant',
        /iss and sub are required: set both to the service account's client_id/,
      );
    });
    it('a token for an API the account was granted nothing at is refused, with or without a scope, naming what is allowed', async () => {
      await server.runtime.resources.create({ identifier: 'https://payroll.example.test', scope: 'payroll.read payroll.admin', format: 'jwt' });
      for (const extra of [{}, { scope: 'cmdb.read' }] as Record<string, string>[]) {
        await refused(
          await sign(es),
          'invalid_target',
          new RegExp(
            /service account 'sa_[^']+' is granted none of the scopes of https:\/\/payroll\.example\.test/.source +
              / \(it defines: payroll\.read payroll\.admin; .* is granted: cmdb\.read cmdb\.write\)/.source,
          ),
          { resource: 'https://payroll.example.test', ...extra },
        );
      }
    });
    it('a default scope that has nothing at the requested resource is refused rather than answered with an empty token', async () => {
      await server.runtime.resources.create({ identifier: 'https://cmdb-write.example.test', scope: 'cmdb.write', format: 'jwt' });
      // es may have cmdb.write there, but its default scope is cmdb.read.
      await refused(
        await sign(es),
        'invalid_scope',
        /no scope was requested and the default scope of .* \(cmdb\.read\) has none of https:\/\/cmdb-write\.example\.test; request one of: cmdb\.write/,
        { resource: 'https://cmdb-write.example.test' },
      );
      const ok = await exchange(await sign(es), { resource: 'https://cmdb-write.example.test', scope: 'cmdb.write' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.scope, 'cmdb.write');
    });
    it('an unregistered resource', async () => {
      await refused(await sign(es), 'invalid_target', /resource 'https:\/\/nowhere.example.test' is not registered/, {
        resource: 'https://nowhere.example.test',
      });
    });
    it('alg: none', async () => {
      const unsigned =
        `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.` +
        `${Buffer.from(JSON.stringify({ iss: es.id, sub: es.id, aud: tokenUrl, exp: now() + 60, jti: randomUUID() })).toString('base64url')}.`;
      await refused(unsigned, 'invalid_grant', /alg 'none' is not accepted/);
    });
    it("HS256 signed with the account's public key bytes (algorithm confusion)", async () => {
      await refused(
        await sign(rs, { alg: 'HS256', key: new TextEncoder().encode(rs.publicPem), header: { kid: rs.kid } }),
        'invalid_grant',
        /alg HS256 is not accepted for this service account; its registered keys use RS256/,
      );
    });
    it('an asymmetric alg for a shared-secret account', async () => {
      const k = await generateKeyPair('ES256');
      await refused(await sign(hs, { alg: 'ES256', key: k.privateKey }), 'invalid_grant', /signs with its shared secret, use HS256/);
    });
    it('HS256 with the wrong secret', async () => {
      await refused(
        await sign(hs, { alg: 'HS256', key: new TextEncoder().encode('not-the-secret-but-long-enough-0123456789') }),
        'invalid_grant',
        /signature verification failed against the shared secret/,
      );
    });
    it('a kid registered for ES256 presented with RS256', async () => {
      const rsa = await generateKeyPair('RS256');
      await refused(
        await sign(es, { key: rsa.privateKey, alg: 'RS256', header: { kid: es.key.kid } }),
        'invalid_grant',
        /key '.+' is registered for ES256, not RS256/,
      );
    });
    it('garbage assertions of every shape', async () => {
      for (const [garbage, reason] of [
        ['not-a-jwt', /not a JWT: expected three base64url parts/],
        ['a.b.c', /header is not base64url-encoded JSON/],
        [`${Buffer.from('{"alg":"ES256"}').toString('base64url')}.%%%.sig`, /payload is not a base64url-encoded JSON object/],
        ['a.b.c.d.e', /encrypted assertions \(JWE\) are not accepted/],
        [`${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2ln`, /assertion has no iss/],
      ] as const) {
        await refused(garbage, 'invalid_grant', reason);
      }
    });
    it('no assertion at all', async () => {
      const res = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: JWT_BEARER }),
      });
      const body = (await res.json()) as Body;
      assert.equal(res.status, 400);
      assert.equal(body.error, 'invalid_request');
      assert.match(body.error_description, /assertion is required/);
    });
    it('a 100 KB assertion is refused without a 5xx', async () => {
      const r = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: `${'a'.repeat(50_000)}.${'b'.repeat(50_000)}.c` }),
      });
      assert.equal(r.status, 413);
      const body = (await r.json()) as Body;
      assert.equal(body.error, 'invalid_request');
      assert.match(body.error_description, /request body exceeds 64 KiB/);
      const medium = await exchange(`${'a'.repeat(10_000)}.b.c`);
      assert.equal(medium.status, 400);
      assert.match(medium.body.error_description, /at most 8192 are accepted/);
    });
    it('an app client (not a service account) cannot use the grant', async () => {
      const { client, clientSecret } = await server.runtime.clients.create({ name: 'web', redirectUris: ['https://w.example.test/cb'] });
      const assertion = await sign({ id: client.clientId }, { alg: 'HS256', key: new TextEncoder().encode(clientSecret!) });
      const res = await fetch(tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.clientId}:${clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
      });
      const body = (await res.json()) as Body;
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.error, 'invalid_request');
      assert.equal(body.error_description, 'requested grant type is not allowed for this client');
    });
  });

  it('no refusal above was logged with the assertion itself', () => {
    const logs = server.logs.join('\n');
    assert.ok(!/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(logs), 'no JWTs in logs');
  });
});
