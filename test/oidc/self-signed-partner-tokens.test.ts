// Reference API C's partners sign {clientId, iat, exp} with a shared secret
// and send it to the API, which introspects it here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';
import { adminCli } from '../helpers/cli.ts';

const API = 'https://portfolio.example.test';
const SECRET = 'the-partners-existing-secret-0123456789';

function partnerToken(claims: Record<string, unknown>, secret = SECRET) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

describe('self-signed partner tokens', () => {
  let server: TestServer;
  let rs: { id: string; secret: string };
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: API, scope: 'portfolio.read' });
    rs = await resourceServerClient(server, [API]);
    await server.runtime.serviceAccounts.create({
      name: 'partner acme',
      scope: 'portfolio.read',
      importedSecret: SECRET,
      clientId: 'acme-partner-7',
      selfSignedMaxLifetime: 900,
    });
    await server.runtime.serviceAccounts.create({ name: 'no opt-in', scope: 'portfolio.read', importedSecret: SECRET, clientId: 'plain-partner' });
  });
  after(() => server.stop());

  it('accepted: active, sub = the service account, its scope; usable many times within its lifetime', async () => {
    const token = await partnerToken({ clientId: 'acme-partner-7', iat: now(), exp: now() + 900 });
    for (let i = 0; i < 3; i++) {
      const r = await introspect(server, rs, { token });
      assert.equal(r.status, 200);
      assert.equal(r.body.active, true);
      assert.equal(r.body.sub, 'acme-partner-7');
      assert.equal(r.body.scope, 'portfolio.read');
      assert.equal(r.body.token_type, 'self_signed');
    }
  });

  it('refused as {"active": false}: expired, over the maximum lifetime, wrong secret, account without the opt-in, other names, a client that is no resource server', async () => {
    const cases: [string, string][] = [
      ['expired', await partnerToken({ clientId: 'acme-partner-7', iat: now() - 1000, exp: now() - 100 })],
      ['over the maximum lifetime', await partnerToken({ clientId: 'acme-partner-7', iat: now(), exp: now() + 3600 })],
      ['wrong secret', await partnerToken({ clientId: 'acme-partner-7', iat: now(), exp: now() + 60 }, 'some-other-secret-of-20-chars+')],
      ['no opt-in', await partnerToken({ clientId: 'plain-partner', iat: now(), exp: now() + 60 })],
      ['iss names another account', await partnerToken({ clientId: 'acme-partner-7', iss: 'plain-partner', iat: now(), exp: now() + 60 })],
      ['no iat', await partnerToken({ clientId: 'acme-partner-7', exp: now() + 60 })],
      ['unknown account', await partnerToken({ clientId: 'nobody', iat: now(), exp: now() + 60 })],
    ];
    for (const [label, token] of cases) {
      const r = await introspect(server, rs, { token });
      assert.equal(r.status, 200, label);
      assert.deepEqual(r.body, { active: false }, label);
    }
    const plain = await server.runtime.clients.create({ name: 'app', redirectUris: [], clientCredentials: true });
    const good = await partnerToken({ clientId: 'acme-partner-7', iat: now(), exp: now() + 60 });
    assert.deepEqual((await introspect(server, { id: plain.client.clientId, secret: plain.clientSecret! }, { token: good })).body, { active: false });
  });

  it("a disabled account's tokens go inactive at once", async () => {
    await server.runtime.serviceAccounts.create({
      name: 'soon off',
      scope: 'portfolio.read',
      importedSecret: SECRET,
      clientId: 'soon-off',
      selfSignedMaxLifetime: 900,
    });
    const token = await partnerToken({ clientId: 'soon-off', iat: now(), exp: now() + 300 });
    assert.equal((await introspect(server, rs, { token })).body.active, true);
    await server.runtime.serviceAccounts.setDisabled('soon-off', true);
    assert.deepEqual((await introspect(server, rs, { token })).body, { active: false });
  });

  it("aud, when present, must be the caller's API; a token addressed to this server (an assertion's audience) is inactive", async () => {
    const base = { clientId: 'acme-partner-7', iat: now(), exp: now() + 300 };
    for (const aud of [
      'https://other.example.test',
      ['https://other.example.test'],
      server.issuer,
      `${server.issuer}/token`,
      [API, `${server.issuer}/token`],
      42,
    ]) {
      const r = await introspect(server, rs, { token: await partnerToken({ ...base, aud }) });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { active: false }, JSON.stringify(aud));
    }
    // Addressed to the caller's API, it is its token.
    const toApi = (await introspect(server, rs, { token: await partnerToken({ ...base, aud: API }) })).body;
    assert.equal(toApi.active, true);
    assert.equal(toApi.aud, API);
  });

  it("the account's own jwt-bearer assertion, redeemed at the token endpoint and then shown to the API as a token, is inactive", async () => {
    const assertion = await partnerToken({
      iss: 'acme-partner-7',
      sub: 'acme-partner-7',
      aud: `${server.issuer}/token`,
      iat: now(),
      exp: now() + 120,
      jti: randomUUID(),
    });
    const redeemed = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, resource: API }),
    });
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    assert.deepEqual((await introspect(server, rs, { token: assertion })).body, { active: false });
  });

  it('a partner token is active only at resource servers whose APIs its scopes meet, as keys are', async () => {
    const elsewhere = 'https://vault.example.test';
    await server.runtime.resources.create({ identifier: elsewhere, scope: 'vault.open' });
    const vaultRs = await resourceServerClient(server, [elsewhere]);
    const token = await partnerToken({ clientId: 'acme-partner-7', iat: now(), exp: now() + 300 });
    assert.deepEqual((await introspect(server, vaultRs, { token })).body, { active: false });
    assert.equal((await introspect(server, rs, { token })).body.aud, API);
  });

  it('every malformed or forged token answers 200 {"active": false}, not a client error: alg none, another signer, broken segments', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { clientId: 'acme-partner-7', iat: now(), exp: now() + 300 };
    const { privateKey } = await generateKeyPair('ES256');
    const forged = [
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, iss: server.issuer, aud: API, scope: 'portfolio.read' })}.`,
      await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(privateKey),
      await new SignJWT({ ...claims, iss: server.issuer, aud: API }).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(privateKey),
      `${b64({ alg: 'HS256' })}.not-json.sig`,
      `${b64({ alg: 'HS256' })}.${b64(claims)}`,
    ];
    for (const token of forged) {
      const r = await introspect(server, rs, { token });
      assert.equal(r.status, 200, `${token.slice(0, 40)}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body, { active: false });
    }
    // The control: this server's own JWT access tokens are verified offline, not introspected (as documented).
    const c = await server.runtime.clients.create({ name: 'cc', redirectUris: [], clientCredentials: true, apiScope: 'portfolio.read' });
    const issued = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.client.clientId}:${c.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
    });
    const own = (await issued.json()) as { access_token: string };
    const r = await introspect(server, rs, { token: own.access_token });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'unsupported_token_type');
  });

  it('the jwt-bearer grant keeps its RFC 7523 rules: a partner token is no assertion (no aud, no jti)', async () => {
    const token = await partnerToken({ clientId: 'acme-partner-7', iat: now(), exp: now() + 300 });
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: token, resource: API }),
    });
    const body = (await res.json()) as { error: string; error_description: string };
    assert.equal(res.status, 400);
    assert.equal(body.error, 'invalid_grant');
  });

  it("service-account create --shared-secret-stdin imports the partner's secret (never echoed) under its existing client id", async () => {
    const cli = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
    const { spawn } = await import('node:child_process');
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = spawn(
        'npm',
        [
          'run',
          '--silent',
          'admin',
          '--',
          'service-account',
          'create',
          '--name',
          'imported',
          '--scope',
          'portfolio.read',
          '--shared-secret-stdin',
          '--client-id',
          'imported-partner',
          '--self-signed-tokens',
          '--json',
        ],
        { env: { ...process.env, ...server.env } },
      );
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
      child.stdin.end(`${SECRET}\n`);
    });
    assert.equal(out.code, 0, out.stdout);
    const created = JSON.parse(out.stdout) as Record<string, unknown>;
    assert.equal(created.client_id, 'imported-partner');
    assert.ok(!out.stdout.includes(SECRET), 'the imported secret is not printed');
    const shown = JSON.parse((await cli('service-account', 'show', 'imported-partner', '--json')).stdout) as { self_signed_tokens: { max_lifetime: number } };
    assert.deepEqual(shown.self_signed_tokens, { max_lifetime: 900 });
    const token = await partnerToken({ clientId: 'imported-partner', iat: now(), exp: now() + 900 });
    assert.equal((await introspect(server, rs, { token })).body.sub, 'imported-partner');
  });
});
