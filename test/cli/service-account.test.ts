// `service-account` and `resource` commands as operators script them, then a
// real exchange with the printed private key.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { adminCli, errorLines } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('admin CLI: service accounts and resources', () => {
  let server: TestServer;
  let env: Record<string, string>;

  before(async () => {
    server = await startTestServer();
    env = { ...process.env, ...server.env } as Record<string, string>;
  });
  after(() => server.stop());

  const admin = adminCli(() => env);
  const errLine = errorLines;

  it('resource create refuses a duplicate; service-account create --generate-key prints a private key once, which signs a working assertion', async () => {
    const res = await admin(
      'resource',
      'create',
      '--identifier',
      'https://cmdb.example.test',
      '--scope',
      'cmdb.read cmdb.write',
      '--format',
      'jwt',
      '--ttl',
      '900',
      '--json',
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout).scope, 'cmdb.read cmdb.write');
    const dup = await admin('resource', 'create', '--identifier', 'https://cmdb.example.test', '--scope', 'x', '--json');
    assert.equal(dup.code, 1);
    assert.deepEqual(errLine(dup.stderr), ['latchkey-admin: resource https://cmdb.example.test already exists']);

    const r = await admin('service-account', 'create', '--name', 'inventory', '--scope', 'cmdb.read', '--generate-key', 'EdDSA', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out).sort(), ['client_id', 'private_key']);
    assert.equal(out.private_key.kty, 'OKP');
    assert.ok(out.private_key.d, 'the private part is printed');

    const shown = JSON.parse((await admin('service-account', 'show', out.client_id, '--json')).stdout);
    assert.equal(JSON.stringify(shown).includes(out.private_key.d), false, 'the private key is not stored or shown again');
    assert.equal(shown.keys[0].kid, out.private_key.kid);

    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: out.client_id, sub: out.client_id, aud: `${server.issuer}/token`, iat: now, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA', kid: out.private_key.kid })
      .sign(await importJWK(out.private_key, 'EdDSA'));
    const token = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, resource: 'https://cmdb.example.test' }),
    });
    assert.equal(token.status, 200, await token.clone().text());
  });

  it('--jwks-file, add-key, remove-key, list and disable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-jwks-'));
    const a = await generateKeyPair('ES256', { extractable: true });
    const b = await generateKeyPair('RS256', { extractable: true });
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ keys: [{ ...(await exportJWK(a.publicKey)), kid: 'key-a' }] }));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...(await exportJWK(b.publicKey)), kid: 'key-b' }));
    writeFileSync(join(dir, 'private.json'), JSON.stringify({ ...(await exportJWK(a.privateKey)), kid: 'oops' }));
    try {
      const c = await admin('service-account', 'create', '--name', 'etl', '--scope', 'cmdb.read', '--jwks-file', join(dir, 'a.json'), '--json');
      assert.equal(c.code, 0, c.stderr);
      const id = JSON.parse(c.stdout).client_id;
      assert.deepEqual(Object.keys(JSON.parse(c.stdout)), ['client_id']);

      const add = await admin('service-account', 'add-key', id, '--jwks-file', join(dir, 'b.json'), '--key-expires', '2099-01-01T00:00:00Z', '--json');
      assert.deepEqual(JSON.parse(add.stdout).added, ['key-b']);
      const again = await admin('service-account', 'add-key', id, '--jwks-file', join(dir, 'b.json'), '--json');
      assert.equal(again.code, 1);
      assert.match(errLine(again.stderr)[0]!, /already registered/);

      const priv = await admin('service-account', 'add-key', id, '--jwks-file', join(dir, 'private.json'), '--json');
      assert.equal(priv.code, 1);
      assert.match(errLine(priv.stderr)[0]!, /private or symmetric key material; register the public key only/);

      let shown = JSON.parse((await admin('service-account', 'show', id, '--json')).stdout);
      assert.deepEqual(
        shown.keys.map((k: { kid: string }) => k.kid),
        ['key-a', 'key-b'],
      );
      assert.equal(shown.keys[1].expires_at, '2099-01-01T00:00:00.000Z');

      assert.equal((await admin('service-account', 'remove-key', id, 'key-a', '--json')).code, 0);
      const gone = await admin('service-account', 'remove-key', id, 'key-a', '--json');
      assert.equal(gone.code, 1);
      shown = JSON.parse((await admin('service-account', 'show', id, '--json')).stdout);
      assert.deepEqual(
        shown.keys.map((k: { kid: string }) => k.kid),
        ['key-b'],
      );

      assert.equal(JSON.parse((await admin('service-account', 'disable', id, '--json')).stdout).disabled, true);
      const list = JSON.parse((await admin('service-account', 'list', '--json')).stdout);
      assert.equal(list.service_accounts.find((s: { client_id: string }) => s.client_id === id).disabled, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--shared-secret prints an HS256 secret once; it is stored encrypted', async () => {
    const r = await admin('service-account', 'create', '--name', 'partner', '--scope', 'cmdb.read', '--shared-secret', '--json');
    const out = JSON.parse(r.stdout);
    assert.ok(Buffer.from(out.shared_secret, 'base64url').length >= 32);
    const row = await server.runtime.db.client.findUnique({ where: { id: out.client_id } });
    assert.ok(row?.sharedSecretEnc?.startsWith('v1.'));
    assert.equal(row?.sharedSecretEnc?.includes(out.shared_secret), false);
  });

  it('bad input fails with one line and a non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [['service-account', 'create', '--name', 'x', '--scope', 'a', '--generate-key', 'HS256', '--json'], /--generate-key must be one of ES256, RS256, EdDSA/],
      [['service-account', 'create', '--name', 'x', '--scope', 'a', '--json'], /exactly one of --jwks-file, --generate-key or --shared-secret/],
      [['service-account', 'create', '--name', 'x', '--scope', 'a', '--jwks-file', '/nonexistent.json', '--json'], /cannot read \/nonexistent.json/],
      [['service-account', 'disable', 'sa_nope', '--json'], /service account sa_nope not found/],
      [
        ['service-account', 'create', '--name', 'x', '--scope', 'a', '--generate-key', 'ES256', '--client-id', 'latchkey-api-keys', '--json'],
        /client id latchkey-api-keys is reserved/,
      ],
      [['resource', 'create', '--identifier', 'not a uri', '--scope', 'a', '--json'], /not an absolute URI/],
      [['resource', 'create', '--identifier', 'https://x.example.test', '--scope', 'a', '--format', 'xml', '--json'], /--format must be jwt or opaque/],
    ];
    for (const [args, message] of cases) {
      const r = await admin(...args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stdout, '');
      const lines = errLine(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
    }
  });
});
