// Staged signing-key rotation, driven as the runbook says: `keys rotate`,
// then time passes and nodes refresh.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Browser } from '../helpers/browser.ts';
import { adminCli } from '../helpers/cli.ts';
import { codeFlow, createUser, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { advanceClock, startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';

type Jwks = { keys: { kid: string; alg: string; key_ops?: string[] }[] };

describe('staged signing-key rotation', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    // Timers are left long: the test advances stages itself with refreshKeys().
    server = await startTestServer({ KEY_ROTATION_DELAY: '60', KEY_REFRESH_INTERVAL: '3600', ID_TOKEN_TTL: '60', ACCESS_TOKEN_TTL: '60' });
    client = await registerClient(server);
  });
  after(() => server.stop());

  const admin = () => adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
  const jwks = async () => (await (await fetch(`${server.url}/jwks`)).json()) as Jwks;
  const idTokenKid = async () => {
    const { tokens } = await codeFlow(client, new Browser(server.url), await createUser(server));
    return { kid: decodeProtectedHeader(tokens.id_token!).kid!, idToken: tokens.id_token! };
  };

  it('publishes first, signs after the delay, keeps the old key until its tokens expire, then retires it', async () => {
    const before = await idTokenKid();
    const oldRsa = (await jwks()).keys.find((k) => k.alg === 'RS256')!.kid;
    assert.equal(before.kid, oldRsa);

    const rotated = await admin()('keys', 'rotate', '--alg', 'RS256', '--json');
    assert.equal(rotated.code, 0, rotated.stderr);
    const { kid: newKid, state } = JSON.parse(rotated.stdout);
    assert.equal(state, 'next');

    // Stage 1: published, not signing.
    await server.refreshKeys();
    const staged = await jwks();
    assert.ok(
      staged.keys.some((k) => k.kid === newKid),
      'new key published',
    );
    assert.deepEqual(staged.keys.find((k) => k.kid === newKid)!.key_ops, ['verify']);
    assert.equal((await idTokenKid()).kid, oldRsa, 'old key still signs');
    const status = JSON.parse((await admin()('keys', 'status', '--json')).stdout).keys as { kid: string; state: string; next_change: string }[];
    assert.equal(status.find((k) => k.kid === newKid)!.state, 'next');
    assert.match(status.find((k) => k.kid === newKid)!.next_change, /signs in \d+ s/);

    // Stage 2: after the delay the new key signs; the old one stays published.
    advanceClock(server, 60_100); // past KEY_ROTATION_DELAY on the server's clock (a minute: a slow machine's real seconds do not pass it)
    assert.equal(await server.refreshKeys(), true);
    const after = await idTokenKid();
    assert.equal(after.kid, newKid);
    const both = await jwks();
    assert.ok(
      both.keys.some((k) => k.kid === oldRsa),
      'old key still published while its tokens live',
    );
    const rp = createRemoteJWKSet(new URL(`${server.url}/jwks`));
    await jwtVerify(before.idToken, rp, { issuer: server.issuer });
    await jwtVerify(after.idToken, rp, { issuer: server.issuer });
    const retiring = await server.runtime.db.signingKey.findUniqueOrThrow({ where: { kid: oldRsa } });
    assert.equal(retiring.state, 'retiring');
    const wait = retiring.retiresAt!.getTime() - Date.now();
    assert.ok(wait > 60_000 && wait <= 86_400_000 + 61_000, `kept for the longest token lifetime (${wait} ms)`);

    // Stage 3: once its tokens have expired it is retired and its private key erased.
    await server.runtime.db.signingKey.update({ where: { kid: oldRsa }, data: { retiresAt: new Date(Date.now() - 1000) } });
    assert.equal(await server.refreshKeys(), true);
    assert.ok(!(await jwks()).keys.some((k) => k.kid === oldRsa), 'retired key unpublished');
    const retired = await server.runtime.db.signingKey.findUniqueOrThrow({ where: { kid: oldRsa } });
    assert.equal(retired.state, 'retired');
    assert.equal(retired.privateJwkEnc, '');
    const listed = JSON.parse((await admin()('keys', 'list', '--json')).stdout).keys as { kid: string }[];
    assert.ok(!listed.some((k) => k.kid === oldRsa));
  });

  it('a bad --alg is a usage error', async () => {
    const r = await admin()('keys', 'rotate', '--alg', 'HS256', '--json');
    assert.equal(r.code, 2);
  });

  it('kek rotate re-encrypts every secret; the server then runs on the new key', async () => {
    const { randomBytes } = await import('node:crypto');
    const newKek = randomBytes(32).toString('base64');
    // A real process (test/helpers/cli.ts: one test per command family).
    const cli = adminCli(() => ({ ...process.env, ...server.env, LATCHKEY_NEW_KEY_ENCRYPTION_KEY: newKek }) as Record<string, string>, { process: true });
    const r = await cli('kek', 'rotate', '--json');
    assert.equal(r.code, 0, r.stderr);
    const counts = JSON.parse(r.stdout).rewrapped;
    assert.ok(counts.signing_keys >= 2 && counts.server_secrets >= 2);
    const [audited] = await server.runtime.audit.list({ type: 'key_encryption_key.rotated' });
    assert.match(String(audited?.actor), /^cli:/);
    assert.deepEqual(audited?.detail, { rewrapped: counts });
    // A second node (or this one restarted) with the new key reads everything.
    const restarted = await startSecondNode(server, { LATCHKEY_KEY_ENCRYPTION_KEY: newKek });
    try {
      // It unsealed the server secrets and the signing keys at start, and serves.
      assert.equal((await fetch(`${restarted.url}/readyz`)).status, 200);
      assert.ok(restarted.live.signingKids.length >= 2);
      assert.equal((await fetch(`${restarted.url}/jwks`)).status, 200);
    } finally {
      await restarted.stop();
    }
    // The old key no longer opens anything.
    await assert.rejects(startSecondNode(server), /wrong LATCHKEY_KEY_ENCRYPTION_KEY/);
  });
});
