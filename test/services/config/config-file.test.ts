// Configuration as a file: what one server exports, applied through the
// admin API to an empty server, reproduces it (export → apply → export is
// the same document); the same file twice changes nothing; a change is
// planned field by field; deletions happen only with prune (and never of the
// admin account applying the file); new secrets are answered once and kept
// out of the audit trail; the published JSON Schema is the one the server
// checks with, and a bad document is a problem naming its fields.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { adminClient, bootstrapAdmin, tokenFor, type Signer } from '../../helpers/admin-api.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { configJsonSchema, type ConfigDoc } from '../../../src/services/config/config-file.ts';

const CMDB = 'https://cmdb.example.test';
const LEDGER = 'https://ledger.example.test';
const SECRET = 'partner-shared-secret-0123456789abcdef';

describe('configuration as a file', () => {
  let source: TestServer;
  let target: TestServer;
  let call: ReturnType<typeof adminClient>;
  let admin: Signer;
  let token: string;
  let exported: ConfigDoc;

  before(async () => {
    [source, target] = await Promise.all([startTestServer(), startTestServer()]);
    const rt = source.runtime;
    await rt.resources.create({
      identifier: CMDB,
      scope: 'cmdb.read cmdb.write',
      ttl: 3600,
      claims: 'email roles',
      scopeRoles: { 'cmdb.write': ['cmdb-admin'] },
    });
    await rt.resources.create({ identifier: LEDGER, scope: 'ledger.read', format: 'opaque', ttl: 600, machinesOnly: true });
    await rt.db.role.create({ data: { name: 'auditor', description: 'reads the audit trail' } });
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const { d: _d, ...publicJwk } = await exportJWK(privateKey);
    await rt.serviceAccounts.create({
      name: 'inventory sync',
      clientId: 'inventory-sync',
      scope: 'cmdb.read cmdb.write',
      defaultScope: 'cmdb.read',
      jwks: [{ ...publicJwk, kid: 'sync-2026', alg: 'ES256' }],
    });
    await rt.serviceAccounts.create({ name: 'partner', clientId: 'partner-7', scope: 'ledger.read', importedSecret: SECRET, selfSignedMaxLifetime: 900 });
    await rt.clients.create(
      { name: 'Billing', redirectUris: ['https://billing.example.test/cb'], apiScope: 'cmdb.read', defaultResource: CMDB, requireMfa: true },
      { clientId: 'billing' },
    );
    await rt.clients.create({ name: 'Web app', public: true, redirectUris: ['http://127.0.0.1:8080/cb'] }, { clientId: 'web-app' });
    await rt.clients.create(
      { name: 'Nightly', redirectUris: [], clientCredentials: true, apiScope: 'ledger.read', defaultResource: LEDGER },
      { clientId: 'nightly' },
    );
    await rt.clients.create(
      {
        name: 'TV',
        redirectUris: ['https://tv.example.test/cb'],
        deviceFlow: true,
        backchannelLogoutUri: 'https://tv.example.test/logout',
        backchannelLogoutSessionRequired: true,
        logoUri: 'https://tv.example.test/logo.png',
        clientUri: 'https://tv.example.test/',
        policyUri: 'https://tv.example.test/privacy',
        tosUri: 'https://tv.example.test/terms',
      },
      { clientId: 'tv' },
    );
    exported = await rt.admin.config.export();
    call = adminClient(target);
    admin = await bootstrapAdmin(target);
    token = await tokenFor(target, admin);
  });
  after(() => Promise.all([source?.stop(), target?.stop()]));

  const apply = (doc: unknown, query = '') => call('POST', `/config/apply${query}`, { token, body: doc });
  /** The target's document without its own admin account (made by bootstrap, not by the file). */
  const targetDoc = async () => {
    const r = await call('GET', '/config', { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return { ...r.body, service_accounts: r.body.service_accounts.filter((a: { client_id: string }) => a.client_id !== admin.clientId) } as ConfigDoc;
  };

  it('the export holds every object and no secret', () => {
    assert.deepEqual(exported.clients.map((c) => c.client_id).sort(), ['billing', 'nightly', 'tv', 'web-app']);
    assert.deepEqual(exported.resources.map((r) => r.identifier).sort(), [CMDB, LEDGER]);
    assert.deepEqual(exported.service_accounts.map((a) => a.client_id).sort(), ['inventory-sync', 'partner-7']);
    assert.deepEqual(
      exported.roles.map((r) => r.name),
      ['auditor', 'cmdb-admin'],
    );
    const text = JSON.stringify(exported);
    assert.ok(!text.includes(SECRET) && !/secret_hash|"d":/.test(text), 'no secret or private key in the export');
  });

  it('export → apply on an empty server reproduces the configuration; the same file again changes nothing', async () => {
    const doc = { ...exported, service_accounts: exported.service_accounts.map((a) => (a.client_id === 'partner-7' ? { ...a } : a)) };
    const dry = await apply(doc, '?dry_run=true');
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.equal(dry.body.plan.filter((p: { op: string }) => p.op === '+').length, 2 + 2 + 2 + 4);
    assert.deepEqual((await targetDoc()).clients, [], 'a dry run writes nothing');

    const r = await apply(doc);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // New confidential apps and the shared-secret account get secrets, answered once.
    assert.deepEqual(r.body.secrets.map((s: { id: string }) => s.id).sort(), ['billing', 'nightly', 'partner-7', 'tv']);
    const audit = JSON.stringify(await target.runtime.db.auditEvent.findMany());
    for (const s of r.body.secrets as { secret: string }[]) assert.ok(!audit.includes(s.secret), 'no secret in the audit trail');
    assert.ok((await target.runtime.db.auditEvent.count({ where: { type: 'client.created' } })) >= 3, 'one audited change per object');

    assert.deepEqual(await targetDoc(), exported);
    const again = await apply(doc);
    assert.deepEqual(again.body.plan, [], JSON.stringify(again.body.plan));
    // The generated secret works: nightly gets a token with it.
    const nightly = (r.body.secrets as { id: string; secret: string }[]).find((s) => s.id === 'nightly')!;
    const t = await fetch(`${target.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'nightly',
        client_secret: nightly.secret,
        resource: LEDGER,
        scope: 'ledger.read',
      }),
    });
    assert.equal(t.status, 200, await t.text());
  });

  it("an app's device grant, logout endpoint and page links come across; a field the file leaves out is left as it is", async () => {
    const tv = (await targetDoc()).clients.find((c) => c.client_id === 'tv')!;
    assert.deepEqual(tv.grant_types.sort(), ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
    assert.equal(tv.backchannel_logout_uri, 'https://tv.example.test/logout');
    assert.equal(tv.backchannel_logout_session_required, true);
    assert.deepEqual(
      [tv.logo_uri, tv.client_uri, tv.policy_uri, tv.tos_uri],
      ['https://tv.example.test/logo.png', 'https://tv.example.test/', 'https://tv.example.test/privacy', 'https://tv.example.test/terms'],
    );
    const doc = structuredClone(exported);
    const billing = doc.clients.find((c) => c.client_id === 'billing')!;
    billing.client_name = 'Billing (renamed)';
    delete billing.api_scope;
    delete billing.default_resource;
    const r = await apply(doc);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const after = (await targetDoc()).clients.find((c) => c.client_id === 'billing')!;
    assert.equal(after.client_name, 'Billing (renamed)');
    assert.equal(after.api_scope, 'cmdb.read', 'api_scope, not in the file, is kept');
    assert.equal(after.default_resource, CMDB);
    assert.equal((await apply(exported)).status, 200);
  });

  it('a change is planned field by field and applied; deletion only with prune, never of the account applying', async () => {
    const changed = structuredClone(exported);
    changed.resources.find((r) => r.identifier === CMDB)!.ttl = 900;
    changed.clients = changed.clients.filter((c) => c.client_id !== 'web-app');
    changed.service_accounts = [];
    const plan = await apply(changed, '?dry_run=true');
    assert.deepEqual(
      plan.body.plan.map((p: { op: string; id: string; changes: object }) => [p.op, p.id, p.changes]),
      [['~', CMDB, { ttl: { from: 3600, to: 900 } }]],
    );
    const pruned = await apply(changed, '?prune=true');
    assert.deepEqual(pruned.body.plan.map((p: { op: string; kind: string; id: string }) => `${p.op} ${p.kind} ${p.id}`).sort(), [
      '- client web-app',
      '- service_account inventory-sync',
      '- service_account partner-7',
      `~ resource ${CMDB}`,
    ]);
    assert.equal((await target.runtime.resources.get(CMDB)).ttl, 900);
    assert.equal(await target.runtime.db.client.count({ where: { id: 'web-app' } }), 0);
    assert.ok(await target.runtime.serviceAccounts.isEnabled(admin.clientId), 'the admin account applying the file is kept');
    assert.equal((await call('GET', '/config', { token })).status, 200, 'and still works');
  });

  it('a bad document is a 400 naming its fields, and nothing is written', async () => {
    const before = await targetDoc();
    const r = await apply({
      latchkey_config: 1,
      clients: [{ client_id: 'x', client_name: 'X', grant_types: ['password'] }],
      resources: [{ identifier: 'https://a.example.test', scope: 'a' }],
    });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body.errors), /grant_types/);
    assert.match(JSON.stringify(r.body.errors), /ttl/);
    const weak = await apply({
      ...before,
      clients: [
        ...before.clients,
        { client_id: 'bad-uri', client_name: 'Bad', redirect_uris: ['http://evil.example.test/cb'], grant_types: ['authorization_code'] },
      ],
    });
    assert.equal(weak.status, 400, JSON.stringify(weak.body));
    assert.match(weak.body.detail, /client bad-uri/);
    assert.deepEqual(await targetDoc(), before);
  });

  it('the JSON Schema is published without a token, and the repository copy is current', async () => {
    const r = await fetch(`${target.url}/admin/api/v1/config.schema.json`);
    assert.equal(r.status, 200);
    const schema = await r.json();
    assert.deepEqual(schema, configJsonSchema());
    assert.deepEqual(
      JSON.parse(readFileSync(new URL('../../../schemas/latchkey-config.schema.json', import.meta.url), 'utf8')),
      schema,
      'run: npx tsx scripts/write-config-schema.ts',
    );
  });
});
