// Apps and partners move over without touching their code: an app imported
// with its client id and secret (through the admin API, as JSON Lines) gets
// tokens at the token endpoint with the secret it always had; a guessable
// secret, a broken line and a taken id are reported by line, never echoed.
// A partner's shared secret rolls with an overlap during which both secrets
// sign assertions and self-signed tokens, and only the new one after it.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { adminClient, bootstrapAdmin, tokenFor, JWT_BEARER } from '../../helpers/admin-api.ts';
import { basic, introspect, resourceServerClient } from '../../helpers/api-keys.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const API = 'https://ledger.example.test';

describe('imported apps and partner secrets', () => {
  let server: TestServer;
  let call: ReturnType<typeof adminClient>;
  let token: string;

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: API, scope: 'ledger.read ledger.write', format: 'jwt' });
    call = adminClient(server);
    token = await tokenFor(server, await bootstrapAdmin(server));
  });
  after(() => server?.stop());

  const ndjson = (lines: (object | string)[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
  const importApps = (body: string, query = '') =>
    call('POST', `/clients/import${query}`, { token, body, headers: { 'content-type': 'application/x-ndjson' } });
  const clientCredentials = async (id: string, secret: string) => {
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, scope: 'ledger.read' }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  it(
    "an imported app's old secret works at the token endpoint; " + 'weak secrets, broken lines and taken ids are reported by line without their values',
    async () => {
      const secret = randomBytes(24).toString('hex');
      const weak = 'tu-clave-secreta-1234';
      const body = ndjson([
        {
          client_id: 'ledger-batch',
          client_name: 'Ledger batch',
          client_secret: secret,
          grant_types: ['client_credentials'],
          api_scope: 'ledger.read',
          default_resource: API,
        },
        '{"client_id": "half-written", ',
        { client_id: 'weak-one', client_name: 'Weak', client_secret: weak, grant_types: ['client_credentials'], api_scope: 'ledger.read' },
        { client_id: 'ledger-batch', client_name: 'Ledger batch again', client_secret: secret },
        { client_id: 'latchkey-console', client_name: 'Impostor', client_secret: randomBytes(24).toString('hex') },
        {
          client_id: 'portal',
          client_name: 'Portal',
          public: true,
          redirect_uris: ['https://portal.example.test/cb'],
          grant_types: ['authorization_code', 'refresh_token'],
        },
      ]);
      const r = await importApps(body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual({ created: r.body.created, failed: r.body.failed }, { created: 2, failed: 4 }, JSON.stringify(r.body.errors));
      assert.deepEqual(
        r.body.errors.map((e: { line: number; field: string }) => [e.line, e.field]),
        [
          [2, ''],
          [3, 'client_secret'],
          [4, 'client_id'],
          [5, 'client_id'],
        ],
      );
      assert.match(r.body.errors[1].message, /bits of randomness, under the 128 needed/);
      const text = JSON.stringify(r.body);
      assert.ok(!text.includes(secret) && !text.includes(weak), 'no secret in the answer');
      const audit = JSON.stringify(await server.runtime.db.auditEvent.findMany());
      assert.ok(!audit.includes(secret) && !audit.includes(weak), 'no secret in the audit trail');

      const t = await clientCredentials('ledger-batch', secret);
      assert.equal(t.status, 200, JSON.stringify(t.body));
      assert.equal(t.body.token_type, 'Bearer');
      // One character off (never the same character: a secret ending in 0 made this test pass a right secret).
      assert.equal((await clientCredentials('ledger-batch', `${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}`)).status, 401);
      assert.equal((await clientCredentials('weak-one', weak)).status, 401, 'the refused app was not created');
      // Stored as the same keyed hash as a generated secret: never the secret itself.
      const row = await server.runtime.db.client.findUniqueOrThrow({ where: { id: 'ledger-batch' } });
      assert.ok(!JSON.stringify(row).includes(secret));
    },
  );

  it('the same file again with on_conflict=skip changes nothing; a dry run writes nothing', async () => {
    const secret = randomBytes(24).toString('hex');
    const body = ndjson([{ client_id: 'twice', client_name: 'Twice', client_secret: secret, grant_types: ['client_credentials'], api_scope: 'ledger.read' }]);
    const dry = await importApps(body, '?dry_run=true');
    assert.deepEqual([dry.body.dry_run, dry.body.created], [true, 1]);
    assert.equal(await server.runtime.db.client.count({ where: { id: 'twice' } }), 0);
    assert.equal((await importApps(body)).body.created, 1);
    const before = await server.runtime.db.client.findUniqueOrThrow({ where: { id: 'twice' } });
    const again = await importApps(body, '?on_conflict=skip');
    assert.deepEqual([again.body.created, again.body.updated, again.body.skipped], [0, 0, 1]);
    assert.deepEqual(await server.runtime.db.client.findUniqueOrThrow({ where: { id: 'twice' } }), before);
    const failed = await importApps(body);
    assert.deepEqual([failed.body.failed, failed.body.errors[0].field], [1, 'client_id']);
  });

  it('a body that is not JSON Lines is a 415 problem naming the media type; a read-only admin token is refused', async () => {
    const r = await call('POST', '/clients/import', { token, body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 415);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.match(r.body.detail, /application\/x-ndjson/);
    assert.equal((await call('POST', '/clients/import', { body: '{}', headers: { 'content-type': 'application/x-ndjson' } })).status, 401);
  });

  describe('a partner account rotates its shared secret', () => {
    const OLD = `partner-old-${randomBytes(20).toString('hex')}`;
    let rs: { id: string; secret: string };

    before(async () => {
      await server.runtime.serviceAccounts.create({
        name: 'partner',
        scope: 'ledger.read',
        importedSecret: OLD,
        clientId: 'partner-9',
        selfSignedMaxLifetime: 900,
      });
      rs = await resourceServerClient(server, [API]);
    });
    after(() => (server.runtime.clock.now = () => Date.now()));

    const now = () => Math.floor(Date.now() / 1000);
    const selfSigned = (secret: string) =>
      new SignJWT({ clientId: 'partner-9', iat: now(), exp: now() + 300 })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .sign(new TextEncoder().encode(secret));
    const assertion = (secret: string) =>
      new SignJWT({ iss: 'partner-9', sub: 'partner-9', aud: `${server.issuer}/token`, iat: now(), exp: now() + 60, jti: randomUUID() })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(secret));
    const grant = async (secret: string) => {
      const res = await fetch(`${server.issuer}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: await assertion(secret), resource: API }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    const active = async (secret: string) => (await introspect(server, rs, { token: await selfSigned(secret) })).body.active;

    it('both secrets work during the overlap, only the new one after it (the clock moved past it), and the new one is in the answer only', async () => {
      assert.equal((await grant(OLD)).status, 200);
      const r = await call('POST', '/service-accounts/partner-9/rotate-secret', { token, body: { overlap_seconds: 3600 } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const NEW = r.body.shared_secret as string;
      assert.ok(NEW.length >= 40);
      assert.ok(!JSON.stringify(await server.runtime.db.auditEvent.findMany()).includes(NEW), 'no secret in the audit trail');
      assert.ok(
        !JSON.stringify(await server.runtime.db.client.findUniqueOrThrow({ where: { id: 'partner-9' } })).includes(OLD),
        'the replaced secret is stored sealed',
      );

      assert.equal((await grant(NEW)).status, 200);
      assert.equal((await grant(OLD)).status, 200, 'the old secret works during the overlap');
      assert.equal(await active(NEW), true);
      assert.equal(await active(OLD), true);

      const base = Date.now();
      server.runtime.clock.now = () => base + 3601_000;
      const late = await grant(OLD);
      assert.equal(late.status, 400);
      assert.equal(late.body.error, 'invalid_grant');
      assert.ok(!JSON.stringify(late.body).includes(OLD));
      assert.equal(await active(OLD), false);
      assert.equal((await grant(NEW)).status, 200);
      assert.equal(await active(NEW), true);
    });

    it('a key-signed account, an unknown account and a bad overlap are problems naming what to fix', async () => {
      const keyed = await server.runtime.serviceAccounts.create({ name: 'keyed', scope: 'ledger.read', generateKey: 'ES256' });
      const c = await call('POST', `/service-accounts/${keyed.account.clientId}/rotate-secret`, { token, body: {} });
      assert.equal(c.status, 409);
      assert.match(c.body.detail, /signs with keys/);
      assert.equal((await call('POST', '/service-accounts/nobody/rotate-secret', { token, body: {} })).status, 404);
      const bad = await call('POST', '/service-accounts/partner-9/rotate-secret', { token, body: { overlap_seconds: -1 } });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body.errors), /overlap_seconds/);
    });
  });
});
