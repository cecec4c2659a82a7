// Keys integrators already have keep working after the move: a key of any
// shape (`nsa_live_…`, `kapi_prod_…`, a bare 40-character token, one shaped
// like the provider's own opaque tokens) or only the SHA-256 its product kept
// is found by introspection, by Apache mod_oauth2 reading X-API-Key, and by
// the key exchange, exactly as Latchkey's own keys; it is never stored nor
// echoed. Latchkey's own keys keep their checksum fast path: a mistyped `lk_`
// key costs no database statement, a string of no known format at most one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { adminClient, bootstrapAdmin, tokenFor } from '../../helpers/admin-api.ts';
import { apacheMissing, startApache, type Apache } from '../../helpers/apache.ts';
import { exchange, introspect, resourceServerClient, statementCount } from '../../helpers/api-keys.ts';
import { createUser } from '../../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const API = 'https://inventory.example.test';
const missingApache = apacheMissing();
const base62 = (n: number) => [...randomBytes(n)].map((b) => '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[b % 62]).join('');

/** The admin CLI with `input` on its stdin (as `--key-stdin` reads it). */
function cliWithStdin(env: Record<string, string>, input: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'admin', '--', ...args], { env: { ...process.env, ...env } as Record<string, string> });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('API keys imported in their old format', () => {
  let server: TestServer;
  let rs: { id: string; secret: string };
  let person: Awaited<ReturnType<typeof createUser>>;
  let call: ReturnType<typeof adminClient>;
  let token: string;
  const keys = {
    nsa: `nsa_live_${base62(32)}`,
    kapi: `kapi_prod_${base62(32)}`,
    bare: randomBytes(20).toString('hex'),
    urlsafe: randomBytes(32).toString('base64url'),
    // base64url has underscores: the part before one is no prefix (it was cut off and the rest judged weak).
    underscored: `Q${base62(29)}_${base62(12)}`,
  };

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: API, scope: 'stock.read stock.write' });
    rs = await resourceServerClient(server, [API]);
    person = await createUser(server);
    await server.runtime.serviceAccounts.create({
      name: 'integrator',
      scope: 'stock.read',
      importedSecret: randomBytes(24).toString('hex'),
      clientId: 'integrator-1',
    });
    call = adminClient(server);
    token = await tokenFor(server, await bootstrapAdmin(server));
  });
  after(() => server?.stop());

  const importKeys = (lines: object[], query = '') =>
    call('POST', `/api-keys/import${query}`, {
      token,
      body: lines.map((l) => JSON.stringify(l)).join('\n'),
      headers: { 'content-type': 'application/x-ndjson' },
    });

  it(
    'keys of four shapes and one known only by its SHA-256 are active at introspection with their owner and scope; ' + 'nothing of them is stored or answered',
    async () => {
      const r = await importKeys([
        { owner: person.id, name: 'nsa', scope: 'stock.read', resource: API, key: keys.nsa },
        { owner: 'integrator-1', name: 'kapi', scope: 'stock.read', resource: API, key: keys.kapi },
        { owner: 'integrator-1', name: 'bare', scope: 'stock.read', key: keys.bare },
        { owner: person.id, name: 'urlsafe', scope: 'stock.read', resource: API, key: keys.urlsafe },
        { owner: person.id, name: 'underscored', scope: 'stock.read', resource: API, key: keys.underscored },
        { owner: person.id, name: 'weak', scope: 'stock.read', key: 'kapi_prod_password123password' },
        { owner: 'nobody', name: 'orphan', scope: 'stock.read', key: `kapi_prod_${base62(32)}` },
        { owner: person.id, name: 'ours', scope: 'stock.read', key: `lk_live_${base62(40)}` },
      ]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual({ created: r.body.created, failed: r.body.failed }, { created: 5, failed: 3 }, JSON.stringify(r.body.errors));
      assert.deepEqual(
        r.body.errors.map((e: { line: number; field: string }) => [e.line, e.field]),
        [
          [6, 'key'],
          [7, 'owner'],
          [8, 'key'],
        ],
      );
      const sha = randomBytes(20).toString('hex');
      const bySha = await importKeys([
        { owner: 'integrator-1', name: 'sha only', scope: 'stock.read', key_sha256: createHash('sha256').update(sha).digest('hex') },
      ]);
      assert.equal(bySha.body.created, 1, JSON.stringify(bySha.body));

      for (const [label, key, sub] of [
        ['nsa_live_', keys.nsa, person.id],
        ['kapi_prod_', keys.kapi, 'integrator-1'],
        ['bare hex', keys.bare, 'integrator-1'],
        ['43 base64url (provider-shaped)', keys.urlsafe, person.id],
        ['with an underscore', keys.underscored, person.id],
        ['SHA-256 only', sha, 'integrator-1'],
      ] as const) {
        const i = await introspect(server, rs, { token: key });
        assert.equal(i.body.active, true, `${label}: ${JSON.stringify(i.body)}`);
        assert.equal(i.body.sub, sub, label);
        assert.equal(i.body.scope, 'stock.read', label);
      }
      // One character off (never the one it has: the key is random).
      const typo = `${keys.kapi.slice(0, -1)}${keys.kapi.endsWith('x') ? 'y' : 'x'}`;
      assert.equal((await introspect(server, rs, { token: typo })).body.active, false);

      const stored = JSON.stringify(await server.runtime.db.apiKey.findMany()) + JSON.stringify(await server.runtime.db.auditEvent.findMany());
      for (const key of [...Object.values(keys), sha])
        assert.ok(!stored.includes(key) && !stored.includes(key.slice(-20)), 'no key in the database or the audit trail');
      const answered = JSON.stringify(r.body);
      for (const key of Object.values(keys)) assert.ok(!answered.includes(key.slice(-20)));

      // Shown like other keys: a display prefix, the owner, the last use.
      const list = await call('GET', `/api-keys?owner_id=${person.id}`, { token });
      const nsa = list.body.items.find((k: { name: string }) => k.name === 'nsa');
      assert.match(nsa.display, /^nsa_live_[0-9A-Za-z]{1,4}…$/);
      assert.ok(nsa.last_used_at, 'the use was recorded');
    },
  );

  it('the exchange takes an imported key like its own', async () => {
    const r = await exchange(server, { subject_token: keys.nsa, resource: API });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.access_token);
  });

  it('a mistyped lk_ key still costs no database statement; a string of no known format at most one', async () => {
    const { key } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'own', scope: 'stock.read', resource: API });
    const mistyped = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    // Time stands still while statements are counted: on a loaded machine the per-node cache's next
    // check (a statement of its own, src/services/machines/config-cache.ts) could otherwise fall in between.
    const clock = server.runtime.clock;
    const realNow = clock.now;
    const frozen = clock.now();
    clock.now = () => frozen;
    try {
      await server.runtime.apiKeys.check(`zz_${base62(30)}`); // the imported-keys flag is cached from here
      let before = await statementCount(server);
      assert.equal((await server.runtime.apiKeys.check(mistyped)).active, false);
      assert.equal((await statementCount(server)) - before, 0, 'a mistyped own key was looked up');
      before = await statementCount(server);
      assert.equal((await server.runtime.apiKeys.check(`zz_${base62(30)}`)).active, false);
      assert.ok((await statementCount(server)) - before <= 1, 'an unknown string took more than one statement');
    } finally {
      clock.now = realNow;
    }
  });

  it('the CLI imports one key from stdin without printing it; the same key again is "already imported"', async () => {
    const key = `acme_${base62(36)}`;
    const args = ['api-key', 'import', '--owner', 'integrator-1', '--name', 'from stdin', '--scope', 'stock.read', '--resource', API, '--key-stdin', '--json'];
    const first = await cliWithStdin(server.env, `${key}\n`, ...args);
    assert.equal(first.code, 0, first.stderr);
    const shown = JSON.parse(first.stdout) as { imported: boolean; display: string };
    assert.equal(shown.imported, true);
    assert.ok(!first.stdout.includes(key.slice(8)) && !first.stderr.includes(key.slice(8)));
    // The service the CLI calls (one process is enough to prove the command; each costs seconds here).
    const again = await server.runtime.admin.apiKeys.importOne(
      { kind: 'cli', osUser: 'test' },
      { owner: { clientId: 'integrator-1' }, name: 'again', scope: 'stock.read', key },
    );
    assert.ok(again.existing && !again.record);
    assert.equal((await introspect(server, rs, { token: key })).body.active, true);
  });

  describe('through Apache mod_oauth2', { skip: missingApache ? `Apache with mod_oauth2 is not installed: ${missingApache}` : false }, () => {
    let apache: Apache;
    before(async () => {
      apache = await startApache({
        keyed: [
          'AuthType oauth2',
          'OAuth2AcceptTokenIn header name=X-API-Key&type=',
          `OAuth2TokenVerify introspect ${server.url}/token/introspection ` +
            `introspect.auth=client_secret_basic&client_id=${encodeURIComponent(rs.id)}&client_secret=${encodeURIComponent(rs.secret)}&expiry=0`,
          'Require valid-user',
          'Header always set X-Sub "%{OAUTH2_CLAIM_sub}e"',
        ].join('\n'),
      });
    });
    after(() => apache?.stop());

    it('an imported nsa_live_ key in X-API-Key → 200 with its owner as sub; revoked → 401 on the next request', async () => {
      const res = await fetch(`${apache.url}/keyed/ok.txt`, { headers: { 'x-api-key': keys.nsa } });
      assert.equal(res.status, 200, apache.errorLog());
      assert.equal(res.headers.get('x-sub'), person.id);
      const [row] = await server.runtime.db.apiKey.findMany({ where: { name: 'nsa' } });
      await server.runtime.apiKeys.revoke(row!.id);
      assert.equal((await fetch(`${apache.url}/keyed/ok.txt`, { headers: { 'x-api-key': keys.nsa } })).status, 401);
    });
  });
});
