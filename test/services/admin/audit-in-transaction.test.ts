// An administrative change and its audit record are one transaction: when the
// audit write fails, the change is not made. The failure is a real one, made
// by the test database itself (a trigger refusing one action's audit rows),
// on SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, exportJWK } from 'jose';
import type { Actor } from '../../../src/services/admin/audit.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const actor: Actor = { kind: 'cli', osUser: 'audit-test' };
// PostgreSQL passes the trigger's message on; Prisma reports SQLite's RAISE(ABORT) as a constraint violation.
const REFUSED = /audit refused|constraint violated/;

describe('an administrative change whose audit record cannot be written is not made', () => {
  let server: TestServer;
  let postgres: boolean;
  before(async () => {
    server = await startTestServer();
    postgres = !server.env.DATABASE_URL!.startsWith('file:');
    await server.runtime.db.$executeRawUnsafe(`CREATE TABLE refused_audit_types (type TEXT PRIMARY KEY)`);
    if (postgres) {
      await server.runtime.db.$executeRawUnsafe(`CREATE FUNCTION refuse_audit() RETURNS trigger AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM refused_audit_types WHERE type = NEW.type) THEN RAISE EXCEPTION 'audit refused'; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql`);
      await server.runtime.db.$executeRawUnsafe(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()`);
    } else {
      await server.runtime.db.$executeRawUnsafe(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events
        WHEN EXISTS (SELECT 1 FROM refused_audit_types WHERE type = NEW.type) BEGIN SELECT RAISE(ABORT, 'audit refused'); END`);
    }
  });
  after(() => server.stop());

  /** Audit rows of this type now fail to insert, as a full disk or a lost connection would make them. */
  const refuse = (type: string) => server.runtime.db.$executeRawUnsafe(`INSERT INTO refused_audit_types (type) VALUES ('${type}')`);
  const auditCount = (type: string) => server.runtime.db.auditEvent.count({ where: { type } });

  it('a client update: its name stays, and nothing is recorded', async () => {
    const { client } = await server.runtime.admin.clients.create(actor, { name: 'before', redirectUris: ['https://app.example.test/cb'] });
    assert.equal((await server.runtime.clients.findForProvider(client.clientId))?.name, 'before'); // cached on this node
    await refuse('client.updated');
    await assert.rejects(server.runtime.admin.clients.update(actor, client.clientId, { name: 'after' }), REFUSED);
    assert.equal((await server.runtime.admin.clients.get(client.clientId)).name, 'before');
    assert.equal(await auditCount('client.updated'), 0);
    // Nor does this node's cache of clients keep the change that never happened.
    assert.equal((await server.runtime.clients.findForProvider(client.clientId))?.name, 'before');
  });

  it('a password set by an administrator: the old password still signs in', async () => {
    const user = await server.runtime.admin.users.create(actor, { email: 'kept@example.test', password: 'correct horse battery staple' });
    await refuse('user.password_set');
    await assert.rejects(server.runtime.admin.users.setPassword(actor, user.id, 'a brand new passphrase 42'), REFUSED);
    assert.equal((await server.runtime.signIn.password('kept@example.test', 'correct horse battery staple', {})).kind, 'ok');
  });

  it('a bootstrap (a resource, a service account, then its own record): none of it is made, and it can be run again', async () => {
    await refuse('admin.bootstrapped');
    const jwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    await assert.rejects(server.runtime.admin.bootstrap(actor, { name: 'first admin', jwks: [{ ...jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] }), REFUSED);
    assert.equal((await server.runtime.admin.serviceAccounts.list()).length, 0, 'no admin account');
    assert.equal(await server.runtime.resources.find(`${server.issuer}/admin/api/v1`), undefined, 'no admin API resource');
    assert.equal(await auditCount('resource.created'), 0);
    assert.equal(await auditCount('service_account.created'), 0);
    await server.runtime.db.$executeRawUnsafe(`DELETE FROM refused_audit_types`);
    const made = await server.runtime.admin.bootstrap(actor, { name: 'first admin', jwks: [{ ...jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] });
    assert.equal((await server.runtime.admin.serviceAccounts.list()).map((a) => a.clientId).join(), made.account.clientId);
    assert.equal(await auditCount('admin.bootstrapped'), 1);
  });

  it('a configuration file whose last record cannot be written: none of its roles, APIs or apps is made', async () => {
    const created = await auditCount('client.created');
    await refuse('config.applied');
    const file = {
      latchkey_config: 1,
      roles: [{ name: 'ledger-admin', description: 'changes the ledger' }],
      resources: [{ identifier: 'https://ledger.example.test', scope: 'ledger.read ledger.write', ttl: 900 }],
      clients: [{ client_id: 'ledger-ui', client_name: 'Ledger', redirect_uris: ['https://ledger.example.test/cb'], grant_types: ['authorization_code'] }],
    };
    await assert.rejects(server.runtime.admin.config.apply(file, actor), REFUSED);
    assert.equal(await server.runtime.db.role.count({ where: { name: 'ledger-admin' } }), 0, 'no role');
    assert.equal(await server.runtime.resources.find('https://ledger.example.test'), undefined, 'no API');
    await assert.rejects(server.runtime.admin.clients.get('ledger-ui'), /not found|no client/i);
    assert.equal(await auditCount('client.created'), created, 'no record of the app either');
    // Applied again once the records can be written, it makes all of it.
    await server.runtime.db.$executeRawUnsafe(`DELETE FROM refused_audit_types`);
    const again = await server.runtime.admin.config.apply(file, actor);
    assert.equal(again.plan.filter((p) => p.op === '+').length, 3);
    assert.equal((await server.runtime.admin.clients.get('ledger-ui')).name, 'Ledger');
  });

  it('an API key creation (the admin API, the account page, the CLI, imports): no key is made, its place stays free, nothing is recorded', async () => {
    await server.runtime.resources.create({ identifier: 'https://audit.example.test', scope: 'audit.read' });
    const { account } = await server.runtime.serviceAccounts.create({ name: 'audited keys', scope: 'audit.read', generateKey: 'ES256' });
    const owner = { clientId: account.clientId };
    await refuse('api_key_created');
    await assert.rejects(server.runtime.admin.apiKeys.create(actor, { owner, name: 'never', scope: 'audit.read' }), REFUSED);
    await assert.rejects(server.runtime.apiKeys.create({ owner, name: 'never either', scope: 'audit.read' }), REFUSED);
    await assert.rejects(
      server.runtime.apiKeys.import({ owner, name: 'never imported', scope: 'audit.read', key: `kapi_prod_${randomBytes(24).toString('base64url')}` }),
      REFUSED,
    );
    assert.deepEqual(await server.runtime.apiKeys.list({ owner }), [], 'no key');
    assert.equal(await server.runtime.db.apiKey.count(), 0, 'no row either');
    assert.equal(await auditCount('api_key_created'), 0);
    // Every one of the owner's places is still free.
    await server.runtime.db.$executeRawUnsafe(`DELETE FROM refused_audit_types`);
    const max = server.runtime.apiKeys.maxPerOwner;
    await Promise.all(Array.from({ length: max }, (_, n) => server.runtime.apiKeys.create({ owner, name: `key ${n}`, scope: 'audit.read' })));
    assert.equal(await server.runtime.apiKeys.countLive(owner), max);
    assert.equal(await auditCount('api_key_created'), max);
  });

  it('an API key revocation: the key still works, and nothing is recorded', async () => {
    const { account } = await server.runtime.serviceAccounts.create({ name: 'revoked keys', scope: 'audit.read', generateKey: 'ES256' });
    const owner = { clientId: account.clientId };
    const { record } = await server.runtime.apiKeys.create({ owner, name: 'kept', scope: 'audit.read' });
    await refuse('api_key_revoked');
    await assert.rejects(server.runtime.admin.apiKeys.revoke(actor, record.id), REFUSED);
    await assert.rejects(server.runtime.apiKeys.revoke(record.id, {}, owner), REFUSED);
    assert.equal((await server.runtime.apiKeys.get(record.id)).revokedAt, null);
    assert.equal(await auditCount('api_key_revoked'), 0);
  });

  it('a signing-key rotation: no key is staged', async () => {
    const before = (await server.runtime.admin.signingKeys.status()).length;
    await refuse('signing_key.rotated');
    await assert.rejects(server.runtime.admin.signingKeys.rotate(actor, 'ES256'), REFUSED);
    assert.equal((await server.runtime.admin.signingKeys.status()).length, before);
  });

  it("a service account's key expiry (the admin console): the key keeps no expiry, and nothing is recorded", async () => {
    const { account } = await server.runtime.serviceAccounts.create({ name: 'rolled keys', scope: 'audit.read', generateKey: 'ES256' });
    const kid = account.keys[0]!.kid;
    await refuse('service_account.key_expired');
    await assert.rejects(server.runtime.admin.serviceAccounts.expireKey(actor, account.clientId, kid, new Date()), REFUSED);
    assert.equal((await server.runtime.serviceAccounts.get(account.clientId)).keys[0]!.expiresAt, null, 'still no expiry');
    assert.equal(await auditCount('service_account.key_expired'), 0);
  });
});
