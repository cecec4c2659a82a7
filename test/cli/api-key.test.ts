// `admin api-key …` as operators' scripts run it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCli, errorLines } from '../helpers/cli.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';

const API = 'https://ledger.example.test';

describe('admin api-key', () => {
  let server: TestServer;
  let cli: ReturnType<typeof adminCli>;
  before(async () => {
    server = await startTestServer();
    cli = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
    await server.runtime.resources.create({ identifier: API, scope: 'ledger.read ledger.write' });
  });
  after(() => server.stop());

  it('create --json gives the key once; list, show, revoke; the key works until revoked', async () => {
    const sa = (await server.runtime.serviceAccounts.create({ name: 'cron', scope: 'ledger.read', generateKey: 'ES256' })).account.clientId;
    const r = await cli(
      'api-key',
      'create',
      '--owner',
      sa,
      '--name',
      'cron job',
      '--scope',
      'ledger.read',
      '--resource',
      API,
      '--expires',
      '90d',
      '--allow-ip',
      '10.0.0.0/8',
      '--allow-ip',
      '2001:db8::/32',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout) as { id: string; key: string; expires_at: string; allowed_ips: string[] };
    assert.match(created.key, /^lk_test_[0-9A-Za-z]{40}$/);
    assert.ok(new Date(created.expires_at).getTime() > Date.now() + 89 * 86400_000);
    assert.deepEqual(created.allowed_ips, ['10.0.0.0/8', '2001:db8::/32']);
    const list = JSON.parse((await cli('api-key', 'list', '--owner', sa, '--json')).stdout) as { api_keys: { id: string; key?: string }[] };
    assert.deepEqual(
      list.api_keys.map((k) => k.id),
      [created.id],
    );
    assert.equal(list.api_keys[0]!.key, undefined);
    const shown = JSON.parse((await cli('api-key', 'show', created.id, '--json')).stdout) as { owner: { kind: string; id: string }; active: boolean };
    assert.deepEqual(shown.owner, { kind: 'service_account', id: sa });
    assert.equal(shown.active, true);
    const rs = await resourceServerClient(server, [API]);
    assert.equal((await introspect(server, rs, { token: created.key, caller_ip: '10.9.9.9' })).body.sub, sa);
    assert.equal((await cli('api-key', 'revoke', created.id, '--json')).code, 0);
    assert.deepEqual((await introspect(server, rs, { token: created.key, caller_ip: '10.9.9.9' })).body, { active: false });
  });

  it('for a person too; refusals are one line naming the problem', async () => {
    const person = await createUser(server);
    const ok = await cli('api-key', 'create', '--owner', person.id, '--name', 'laptop', '--scope', 'ledger.write', '--json');
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await cli('api-key', 'create', '--owner', person.id, '--name', 'x', '--scope', 'ledger.read', '--expires', 'tomorrow');
    assert.equal(bad.code, 1);
    assert.match(errorLines(bad.stderr)[0]!, /neither a duration/);
    const cidr = await cli('api-key', 'create', '--owner', person.id, '--name', 'x', '--scope', 'ledger.read', '--allow-ip', '300.1.1.1/8');
    assert.match(errorLines(cidr.stderr)[0]!, /not an address range/);
    const nobody = await cli('api-key', 'create', '--owner', 'nobody', '--name', 'x', '--scope', 'ledger.read');
    assert.match(errorLines(nobody.stderr)[0]!, /user or service account nobody not found/);
  });
});
