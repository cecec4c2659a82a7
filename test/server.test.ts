// Start-up as an operator meets it: the real entry point, a fresh data folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createSecretBox } from '../src/services/secrets/secret-box.ts';
import { serverArgs } from './helpers/cli-under-load.ts';
import { OWN_SETTINGS, repeatsFirstPass } from './helpers/passes.ts';
import { freePort } from './helpers/server.ts';

function run(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, serverArgs(), {
    cwd,
    env: { PATH: process.env.PATH!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return {
    child,
    exited,
    output: () => out,
    async ready(): Promise<void> {
      // Up to a minute: a first start migrates and generates keys, slow on a loaded machine.
      for (let i = 0; i < 1200 && !out.includes('Latchkey is running'); i++) {
        if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // A server that did not come up is stopped, not left holding its ports after the test.
      if (!out.includes('Latchkey is running')) child.kill('SIGKILL');
      assert.match(out, /Latchkey is running/);
    },
    async stop(): Promise<number> {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('server start-up', { skip: repeatsFirstPass(OWN_SETTINGS) }, () => {
  const cwd = mkdtempSync(join(tmpdir(), 'latchkey-start-'));
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it('first start with no configuration creates the database, keys and a development KEK; a second start reuses them', async () => {
    const port = await freePort();
    // Its own metrics port: another server on this machine may hold the default 9464.
    const metrics = String(await freePort());
    const first = run({ PORT: String(port), METRICS_PORT: metrics, BCRYPT_COST: '4' }, cwd);
    await first.ready();
    assert.match(first.output(), new RegExp(`issuer: +http://localhost:${port}`));
    assert.match(first.output(), new RegExp(`discovery: +http://localhost:${port}/.well-known/openid-configuration`));
    const jwks1 = await (await fetch(`http://localhost:${port}/jwks`)).json();
    assert.match(first.output(), /generated signing keys/);
    assert.match(first.output(), /applied database migrations/);
    assert.equal(await first.stop(), 0, 'SIGTERM exits cleanly');

    assert.ok(existsSync(join(cwd, 'data', 'latchkey.db')));
    const kekFile = join(cwd, 'data', 'key-encryption-key');
    assert.equal(statSync(kekFile).mode & 0o777, 0o600);

    const second = run({ PORT: String(port), METRICS_PORT: metrics, BCRYPT_COST: '4' }, cwd);
    await second.ready();
    const jwks2 = await (await fetch(`http://localhost:${port}/jwks`)).json();
    assert.deepEqual(jwks2, jwks1, 'same signing keys after a restart');
    assert.doesNotMatch(second.output(), /generated signing keys|applied database migrations/);
    assert.equal(await second.stop(), 0);
  });

  it('private keys in the database are encrypted: readable only with the key-encryption key', async () => {
    const { openStorage } = await import('../src/db/database.ts');
    const storage = await openStorage(`file:${join(cwd, 'data', 'latchkey.db')}`);
    const { db } = storage;
    try {
      const keys = await db.signingKey.findMany();
      assert.ok(keys.length >= 2);
      for (const k of keys) {
        assert.doesNotMatch(k.privateJwkEnc, /"d"/);
        assert.ok(!JSON.parse(k.publicJwk).d, 'public JWK has no private part');
      }
      const { readFileSync } = await import('node:fs');
      const box = createSecretBox(Buffer.from(readFileSync(join(cwd, 'data', 'key-encryption-key'), 'utf8').trim(), 'base64'));
      assert.ok(JSON.parse(box.open(keys[0]!.privateJwkEnc, `signing-key:${keys[0]!.kid}`)).d);
      const wrong = createSecretBox(Buffer.alloc(32, 1));
      assert.throws(() => wrong.open(keys[0]!.privateJwkEnc, `signing-key:${keys[0]!.kid}`), /wrong LATCHKEY_KEY_ENCRYPTION_KEY/);
    } finally {
      await storage.close();
    }
  });

  it('a bad variable stops the server with a message naming it', async () => {
    // METRICS_PORT off: a busy 9464 would otherwise also stop it with a message that names a PORT.
    const bad = run({ PORT: 'http', METRICS_PORT: 'off' }, cwd);
    assert.equal(await bad.exited, 1);
    assert.match(bad.output(), /^ {2}PORT: must be a number from 1 to 65535$/m);
  });

  it('production without LATCHKEY_KEY_ENCRYPTION_KEY refuses to start and generates nothing', async () => {
    const prodDir = mkdtempSync(join(tmpdir(), 'latchkey-prod-'));
    const prod = run({ NODE_ENV: 'production', ISSUER: 'https://id.example.test', TRUST_PROXY: 'true', DATA_DIR: prodDir }, prodDir);
    assert.equal(await prod.exited, 1);
    assert.match(prod.output(), /LATCHKEY_KEY_ENCRYPTION_KEY: required/);
    assert.equal(existsSync(join(prodDir, 'key-encryption-key')), false);
    assert.equal(existsSync(join(prodDir, 'data')), false);
    rmSync(prodDir, { recursive: true, force: true });
  });
});
