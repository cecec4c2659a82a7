// A file of people with bad lines in the middle, sent to the admin API as
// JSON Lines: every good line is imported, every bad one is reported with
// its number and field, and nothing of a bad line is written — a broken
// line, a 10 MB line, bytes that are not UTF-8, a duplicate email, ids that
// collide with a person or an app, an unknown hash format. Never a hash in
// the answer or the audit trail; a dry run writes nothing; the same file
// again with on_conflict=skip changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, bootstrapAdmin, tokenFor, type ApiAnswer } from '../../helpers/admin-api.ts';
import { createUser } from '../../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

// bcrypt of "an old passphrase" at cost 4 (PHP's $2y$), and a scheme nobody should import.
const BCRYPT = '$2y$04$Qf7Q0mQpJ3H1k9m0M1o4ueQv6qV4b8tP1lXnG3r0sYcYc5F0nq1aG';
const SHA1 = '$sha1$40000$jtNX3nZ2$hBNaIXkt4wBI2o5rsi8KejSjNqIq';

describe('a file of people with bad lines in the middle', () => {
  let server: TestServer;
  let call: ReturnType<typeof adminClient>;
  let token: string;
  let existing: Awaited<ReturnType<typeof createUser>>;
  let body: Buffer;

  before(async () => {
    server = await startTestServer();
    call = adminClient(server);
    token = await tokenFor(server, await bootstrapAdmin(server));
    existing = await createUser(server, 'already@here.example');
    await server.runtime.clients.create({ name: 'app', redirectUris: [], clientCredentials: true }, { clientId: 'app-with-a-name' });
    const json = (o: object) => Buffer.from(JSON.stringify(o));
    body = Buffer.concat(
      [
        json({ email: 'first@import.example', id: 'legacy-1', name: 'First', password_hash: BCRYPT, roles: ['staff'] }), // 1 ok
        Buffer.from('{"email": "broken@import.example", "password_hash": '), // 2 broken JSON
        json({ email: 'huge@import.example', name: 'x'.repeat(10 * 1024 * 1024) }), // 3 a 10 MB line
        Buffer.concat([Buffer.from('{"email": "latin1@import.example", "name": "Jos'), Buffer.from([0xe9]), Buffer.from('"}')]), // 4 not UTF-8
        json({ email: 'FIRST@import.example', name: 'First again' }), // 5 duplicate email (case)
        json({ email: 'collides@import.example', id: existing.id }), // 6 id of another person
        json({ email: 'app@import.example', id: 'app-with-a-name' }), // 7 id of an app
        json({ email: 'sha1@import.example', password_hash: SHA1 }), // 8 unknown format
        // 9 ok
        json({ email: 'totp@import.example', id: 'legacy-9', totp: { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }, recovery_codes: ['abcd-efgh-ijkl'] }),
        json({ email: 'bad-totp@import.example', totp: { secret: 'not base32!' } }), // 10
      ].flatMap((b, i) => (i ? [Buffer.from('\n'), b] : [b])),
    );
  });
  after(() => server?.stop());

  // The raw bytes (the helper would send a Buffer as JSON).
  const send = async (query = '') => {
    const res = await fetch(`${server.url}/admin/api/v1/users/import${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    return { status: res.status, body: (await res.json()) as ApiAnswer['body'] };
  };
  const people = () => server.runtime.db.user.findMany({ orderBy: { email: 'asc' }, include: { roles: true, recoveryCodes: true } });

  it('a dry run reports every bad line and writes nothing', async () => {
    const before = await people();
    const r = await send('?dry_run=true');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.dry_run, r.body.created, r.body.failed], [true, 2, 8], JSON.stringify(r.body.errors));
    assert.deepEqual(await people(), before);
  });

  it('imports the good lines, reports each bad one with its line and field, and writes nothing of a bad line', async () => {
    const r = await send();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      { created: r.body.created, updated: r.body.updated, skipped: r.body.skipped, failed: r.body.failed },
      { created: 2, updated: 0, skipped: 0, failed: 8 },
      JSON.stringify(r.body.errors),
    );
    const errors = r.body.errors as { line: number; field: string; message: string }[];
    assert.deepEqual(
      errors.map((e) => [e.line, e.field]),
      [
        [2, ''],
        [3, ''],
        [4, ''],
        [5, 'email'],
        [6, 'id'],
        [7, 'id'],
        [8, 'password_hash'],
        [10, 'totp.secret'],
      ],
      JSON.stringify(errors),
    );
    assert.match(errors[0]!.message, /not valid JSON/);
    assert.match(errors[1]!.message, /over the 64 KiB a line may have/);
    assert.match(errors[2]!.message, /not valid UTF-8/);
    assert.match(errors[3]!.message, /same address as line 1/);
    assert.match(errors[6]!.message, /unknown format "\$sha1\$…"/);
    const answer = JSON.stringify(r.body);
    assert.ok(!answer.includes('hBNaIXkt') && !answer.includes('Qf7Q0mQp') && !answer.includes('JBSWY3DP'), 'no hash or secret in the answer');

    const emails = (await people()).map((p) => p.email);
    for (const gone of [
      'broken@import.example',
      'huge@import.example',
      'latin1@import.example',
      'collides@import.example',
      'app@import.example',
      'sha1@import.example',
      'bad-totp@import.example',
    ]) {
      assert.ok(!emails.includes(gone), `${gone} was written`);
    }
    const first = await server.runtime.db.user.findUniqueOrThrow({ where: { id: 'legacy-1' }, include: { roles: true } });
    assert.deepEqual([first.email, first.name, first.roles.map((x) => x.role)], ['first@import.example', 'First', ['staff']]);
    const totp = await server.runtime.db.user.findUniqueOrThrow({ where: { id: 'legacy-9' }, include: { recoveryCodes: true } });
    assert.ok(totp.totpSecretEnc && !totp.totpSecretEnc.includes('JBSWY3DP'), 'the TOTP secret is sealed');
    assert.equal(totp.recoveryCodes.length, 1);
    assert.ok(!JSON.stringify(totp.recoveryCodes).includes('abcd'), 'recovery codes are hashed');
    const audit = JSON.stringify(await server.runtime.db.auditEvent.findMany());
    assert.ok(!audit.includes('Qf7Q0mQp') && !audit.includes('JBSWY3DP') && !audit.includes('abcd-efgh'), 'no hash or secret in the audit trail');
  });

  it('the same file again with on_conflict=skip changes nothing', async () => {
    const before = await people();
    const r = await send('?on_conflict=skip');
    assert.deepEqual([r.body.created, r.body.updated, r.body.skipped, r.body.failed], [0, 0, 2, 8]);
    assert.deepEqual(await people(), before);
  });

  it('a bad on_conflict is a 400 problem naming the field; a JSON body a 415', async () => {
    const bad = await call('POST', '/users/import?on_conflict=merge', { token, body: '{}', headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /on_conflict/);
    assert.equal((await call('POST', '/users/import', { token, body: '{}', headers: { 'content-type': 'application/json' } })).status, 415);
  });
});
