// The admin CLI exactly as operators' scripts call it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminCli, errorLines } from '../helpers/cli.ts';
import { createTestDatabase, testEnv, type TestDatabase } from '../helpers/server.ts';

describe('admin CLI', () => {
  let dir: string;
  let env: Record<string, string>;

  let database: TestDatabase;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
    database = await createTestDatabase(dir);
    env = { ...process.env, ...testEnv(dir, 3000, { DATABASE_URL: database.url }) } as Record<string, string>;
  });
  after(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = adminCli(() => env);
  const errLine = errorLines;

  it('client create --json prints exactly the id and a one-time 256-bit secret that show never repeats', async () => {
    const r = await admin(
      'client',
      'create',
      '--name',
      'Billing',
      '--redirect-uri',
      'https://billing.example.test/cb',
      '--redirect-uri',
      'https://billing.example.test/cb2',
      '--post-logout-redirect-uri',
      'https://billing.example.test/',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out).sort(), ['client_id', 'client_secret']);
    assert.ok(Buffer.from(out.client_secret, 'base64url').length >= 32, '≥ 256 bits');

    const shown = JSON.parse((await admin('client', 'show', out.client_id, '--json')).stdout);
    assert.equal(shown.client_name, 'Billing');
    assert.deepEqual(shown.redirect_uris, ['https://billing.example.test/cb', 'https://billing.example.test/cb2']);
    assert.deepEqual(shown.post_logout_redirect_uris, ['https://billing.example.test/']);
    assert.equal(JSON.stringify(shown).includes(out.client_secret), false, 'show never prints the secret');

    const list = JSON.parse((await admin('client', 'list', '--json')).stdout);
    assert.ok(list.clients.some((c: { client_id: string }) => c.client_id === out.client_id));

    const del = await admin('client', 'delete', out.client_id, '--json');
    assert.equal(del.code, 0);
    const gone = await admin('client', 'show', out.client_id, '--json');
    assert.notEqual(gone.code, 0);
    assert.deepEqual(errLine(gone.stderr), [`latchkey-admin: client ${out.client_id} not found`]);
    assert.equal(gone.stdout, '');
  });

  it('http redirect URIs are accepted for loopback only (RFC 8252)', async () => {
    for (const uri of ['http://localhost:8080/callback', 'http://127.0.0.1/cb', 'http://[::1]:3000/cb']) {
      const r = await admin('client', 'create', '--name', 'Local', '--redirect-uri', uri, '--json');
      assert.equal(r.code, 0, `${uri}: ${r.stderr}`);
    }
    for (const uri of ['http://app.example.test/cb', 'http://10.0.0.5/cb', 'http://localhost.evil.example/cb']) {
      const r = await admin('client', 'create', '--name', 'Web', '--redirect-uri', uri, '--json');
      assert.equal(r.code, 1, uri);
      assert.match(errLine(r.stderr)[0]!, /uses http: only loopback addresses \(localhost, 127\.0\.0\.1, \[::1\]\) may; use https/);
    }
    const logout = await admin(
      'client',
      'create',
      '--name',
      'Web',
      '--redirect-uri',
      'https://a.example.test/cb',
      '--post-logout-redirect-uri',
      'http://a.example.test/',
      '--json',
    );
    assert.equal(logout.code, 1);
    const allowed = await adminCli(() => ({ ...env, ALLOW_INSECURE_REDIRECT_URIS: 'true' }))(
      'client',
      'create',
      '--name',
      'Dev',
      '--redirect-uri',
      'http://dev.example.test/cb',
      '--json',
    );
    assert.equal(allowed.code, 0, allowed.stderr);
  });

  it('a --public client has no secret and the given scope', async () => {
    const r = await admin('client', 'create', '--name', 'SPA', '--redirect-uri', 'http://localhost:5173/cb', '--public', '--scope', 'openid email', '--json');
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out), ['client_id']);
    const shown = JSON.parse((await admin('client', 'show', out.client_id, '--json')).stdout);
    assert.equal(shown.token_endpoint_auth_method, 'none');
    assert.equal(shown.scope, 'openid email');
  });

  it('a malformed redirect URI is refused with one line on stderr', async () => {
    for (const bad of ['not a uri', 'https://app.example.test/cb#frag', 'javascript:alert(1)']) {
      const r = await admin('client', 'create', '--name', 'Bad', '--redirect-uri', bad, '--json');
      assert.equal(r.code, 1, bad);
      assert.equal(r.stdout, '');
      const lines = errLine(r.stderr);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /redirect URI/);
    }
    const none = await admin('client', 'create', '--name', 'NoUri', '--json');
    assert.equal(none.code, 1);
    assert.match(errLine(none.stderr)[0]!, /--redirect-uri/);
  });

  it('user create / list / set-password / disable', async () => {
    const r = await admin('user', 'create', '--email', 'Ops@Example.test', '--password', 'hunter2hunter2', '--name', 'Ops', '--json');
    assert.equal(r.code, 0, r.stderr);
    const user = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(user).sort(), ['email', 'id']);
    assert.equal(user.email, 'ops@example.test');

    const dup = await admin('user', 'create', '--email', 'OPS@example.test', '--password', 'another-password', '--json');
    assert.equal(dup.code, 1);
    assert.deepEqual(errLine(dup.stderr), ['latchkey-admin: a user with email ops@example.test already exists']);

    const list = JSON.parse((await admin('user', 'list', '--json')).stdout);
    const listed = list.users.find((u: { id: string }) => u.id === user.id);
    assert.equal(listed.name, 'Ops');
    assert.equal(JSON.stringify(list).includes('$2b$'), false, 'no password hashes in output');

    assert.equal((await admin('user', 'set-password', user.id, '--password', 'a-new-password', '--json')).code, 0);
    const short = await admin('user', 'set-password', user.id, '--password', 'short', '--json');
    assert.equal(short.code, 1);
    assert.match(errLine(short.stderr)[0]!, /at least 8 characters/);

    const dis = JSON.parse((await admin('user', 'disable', user.id, '--json')).stdout);
    assert.equal(dis.disabled, true);
    const after = JSON.parse((await admin('user', 'list', '--json')).stdout);
    assert.equal(after.users.find((u: { id: string }) => u.id === user.id).disabled, true);
  });

  it('unknown ids and unknown commands fail with a non-zero exit', async () => {
    const r = await admin('user', 'disable', 'no-such-user', '--json');
    assert.equal(r.code, 1);
    assert.deepEqual(errLine(r.stderr), ['latchkey-admin: user no-such-user not found']);
    const u = await admin('frobnicate');
    assert.equal(u.code, 2);
    const badFlag = await admin('client', 'list', '--bogus');
    assert.equal(badFlag.code, 2);
  });

  it('a bad environment variable is named', async () => {
    const saved = env.BCRYPT_COST;
    env.BCRYPT_COST = 'lots';
    const r = await admin('user', 'list', '--json');
    env.BCRYPT_COST = saved!;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BCRYPT_COST/);
  });
});
