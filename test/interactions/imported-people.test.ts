// People imported from another product sign in through the real login page
// with the passwords and authenticator apps they already have: hashes made
// by the libraries products use (passlib, argon2-cffi, Django's and PHP's
// formats), re-hashed to Latchkey's bcrypt at the first sign-in; an imported
// TOTP secret and recovery codes at the code page. An imported hash locks
// like everyone's (that its answers take what everyone's take is
// timing-oracles.test.ts, which runs with the machine to itself).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { authRequest, codeFlow, registerClient, submitLogin, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { cliActor, jsonLines, python, pythonHashersMissing } from '../helpers/imports.ts';
import { secondsLeftInStep } from '../helpers/totp.ts';

const missing = pythonHashersMissing();
const PASSWORD = 'an old passphrase from the old product';

/** Hashes of PASSWORD as each library writes them, at low costs (the test measures no hashing). */
function foreignHashes(): Record<string, string> {
  return python<Record<string, string>>(`
import json, hashlib
from passlib.hash import bcrypt, pbkdf2_sha256, pbkdf2_sha512, scrypt, django_pbkdf2_sha256
import argon2
pw = ${JSON.stringify(PASSWORD)}
salt = 'w3rkz3ug'
print(json.dumps({
  'bcrypt_2y_php': bcrypt.using(ident='2y', rounds=5).hash(pw),
  'bcrypt_2b': bcrypt.using(ident='2b', rounds=6).hash(pw),
  'bcrypt_2a': bcrypt.using(ident='2a', rounds=5).hash(pw),
  'argon2id': argon2.PasswordHasher(time_cost=2, memory_cost=8192, parallelism=2).hash(pw),
  'argon2i': argon2.PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1, type=argon2.Type.I).hash(pw),
  'scrypt': scrypt.using(rounds=12).hash(pw),
  'pbkdf2_sha256': pbkdf2_sha256.using(rounds=2000).hash(pw),
  'pbkdf2_sha512': pbkdf2_sha512.using(rounds=2000).hash(pw),
  'django_pbkdf2_sha256': django_pbkdf2_sha256.using(rounds=2000).hash(pw),
  'werkzeug_pbkdf2': 'pbkdf2:sha256:2000$' + salt + '$' + hashlib.pbkdf2_hmac('sha256', pw.encode(), salt.encode(), 2000).hex(),
}))`);
}

describe('imported people sign in with what they had', { skip: missing ? `needs ${missing}` : false }, () => {
  let server: TestServer;
  let client: TestClient;
  let hashes: Record<string, string>;

  before(async () => {
    server = await startTestServer({ LOCKOUT_THRESHOLD: '4' });
    client = await registerClient(server);
    hashes = foreignHashes();
  });
  after(() => server?.stop());

  const stored = (email: string) => server.runtime.db.user.findUniqueOrThrow({ where: { email } });

  it(
    'every format signs in at the real login page, a wrong password does not, ' + 'and the first sign-in leaves a bcrypt hash (audited password_rehashed)',
    async () => {
      const people = Object.entries(hashes).map(([kind, hash]) => ({
        email: `${kind.replace(/_/g, '-')}@import.example`,
        id: `legacy|${kind}`,
        password_hash: hash,
        email_verified: true,
      }));
      const report = await server.runtime.admin.users.import(cliActor, jsonLines(people));
      assert.deepEqual({ created: report.created, failed: report.failed }, { created: people.length, failed: 0 }, JSON.stringify(report.errors));
      for (const p of people) {
        const before = await stored(p.email);
        assert.equal(before.passwordHash, p.password_hash, 'stored as it came, not hashed at import');
        assert.ok(before.passwordScheme, `${p.email}: scheme recorded`);

        // Wrong password first: refused, and the imported hash stays.
        const wrong = new Browser(server.url);
        const page = (await wrong.navigate((await authRequest(client)).url.href)) as Page;
        const refused = (await submitLogin(wrong, page, p.email, `${PASSWORD}!`)) as Page;
        assert.equal(refused.status, 401, `${p.email}: wrong password refused`);
        assert.equal((await stored(p.email)).passwordHash, p.password_hash);

        const { tokens } = await codeFlow(client, new Browser(server.url), { email: p.email, password: PASSWORD });
        assert.equal(tokens.claims()!.sub, p.id, `${p.email}: the product's own id is the sub`);
        const after = await stored(p.email);
        assert.match(after.passwordHash, /^\$2b\$04\$/, `${p.email}: re-hashed with Latchkey's bcrypt at BCRYPT_COST`);
        assert.equal(after.passwordScheme, null);
        const events = await server.runtime.audit.list({ userId: after.id, type: 'password_rehashed' });
        assert.equal(events.length, 1);
        assert.ok(!JSON.stringify(events[0]!.detail).includes(p.password_hash.slice(-20)), 'no hash in the audit trail');

        // And again, now against the bcrypt hash.
        await codeFlow(client, new Browser(server.url), { email: p.email, password: PASSWORD });
      }
      const everything = JSON.stringify(await server.runtime.audit.list({ limit: 1000 })) + server.logs.join('\n');
      for (const hash of Object.values(hashes)) assert.ok(!everything.includes(hash.slice(-16)), 'no imported hash in the audit trail or a log line');
    },
  );

  it('an imported account locks after the same number of failures as any other, and the lock answers the same', async () => {
    await server.runtime.admin.users.import(cliActor, jsonLines([{ email: 'locks@import.example', password_hash: hashes.argon2id }]));
    const native = await server.runtime.users.create({ email: 'locks-native@import.example', password: 'a native passphrase' });
    const run = async (email: string) => {
      const kinds: string[] = [];
      for (let i = 0; i < 5; i++) kinds.push((await server.runtime.signIn.password(email, `wrong ${i}`, {})).kind);
      kinds.push((await server.runtime.signIn.password(email, email === native.email ? 'a native passphrase' : PASSWORD, {})).kind);
      return kinds;
    };
    const imported = await run('locks@import.example');
    assert.deepEqual(imported, await run(native.email));
    assert.deepEqual(imported, ['failed', 'failed', 'failed', 'locked', 'locked', 'locked']);
    assert.equal((await stored('locks@import.example')).passwordHash, hashes.argon2id, 'a locked sign-in re-hashes nothing');
  });

  it('an imported authenticator secret works at the code page (oathtool computes the code), and an imported recovery code works once', async () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const oathtool = (s: string, digits = 6, algorithm = 'sha1') =>
      execFileSync('oathtool', [`--totp=${algorithm}`, '-d', String(digits), '-b', s], { encoding: 'utf8' }).trim();
    await server.runtime.admin.users.import(
      cliActor,
      jsonLines([
        { email: 'totp@import.example', password_hash: hashes.bcrypt_2y_php, totp: { secret }, recovery_codes: ['a1b2c3d4e5', 'F6G7-H8J9-K0'] },
        {
          email: 'totp8@import.example',
          password_hash: hashes.pbkdf2_sha256,
          totp: { secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', digits: 8, algorithm: 'SHA256' },
        },
      ]),
    );
    const row = await stored('totp@import.example');
    assert.ok(row.totpSecretEnc && !row.totpSecretEnc.includes(secret), 'sealed at rest');
    const codes = await server.runtime.db.recoveryCode.findMany({ where: { userId: row.id } });
    assert.equal(codes.length, 2);
    assert.ok(
      codes.every((c) => !c.codeHash.toUpperCase().includes('A1B2C3D4E5')),
      'recovery codes hashed',
    );

    const codeStep = async (email: string, code: () => string) => {
      if (secondsLeftInStep() < 3) await new Promise((r) => setTimeout(r, secondsLeftInStep() * 1000 + 200));
      const browser = new Browser(server.url);
      const req = await authRequest(client);
      const codePage = (await submitLogin(browser, (await browser.navigate(req.url.href)) as Page, email, PASSWORD)) as Page;
      assert.match(codePage.html, /autocomplete="one-time-code"/, 'asked for the code');
      return browser.navigate(new URL(formAction(codePage.html, '/code'), codePage.url).href, { form: { csrf: csrfToken(codePage.html), code: code() } });
    };
    const accepted = (step: Awaited<ReturnType<typeof codeStep>>) => 'redirect' in step || /\/confirm"/.test((step as Page).html);
    assert.ok(accepted(await codeStep('totp@import.example', () => oathtool(secret))), "the code from the person's existing app is accepted");
    assert.ok(
      accepted(await codeStep('totp8@import.example', () => oathtool('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 8, 'sha256'))),
      'an 8-digit SHA-256 app works too',
    );
    assert.ok(accepted(await codeStep('totp@import.example', () => 'f6g7 h8j9 k0')), 'a recovery code, typed loosely');
    const again = await codeStep('totp@import.example', () => 'F6G7-H8J9-K0');
    assert.ok(!accepted(again), 'a recovery code works once');
    assert.match(pageText((again as Page).html), /not correct/);
  });
});
