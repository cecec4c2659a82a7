// The admin CLI and the admin API are two doors to one service layer: driven
// against one server and database, the same operations have the same effects
// and the same audit records, differing only in who the actor was.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { adminClient, tokenFor, type Signer } from '../helpers/admin-api.ts';
import { adminCli, errorLines } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const VOLATILE = ['client_id', 'created_at', 'updated_at', 'client_secrets', 'id'];
const stable = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !VOLATILE.includes(k)));

describe('admin CLI and admin API on one server', () => {
  let server: TestServer;
  let call: ReturnType<typeof adminClient>;
  let admin: Signer;
  let token: string;
  const cli = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
  const json = async (...args: string[]) => {
    const r = await cli(...args, '--json');
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    server = await startTestServer();
    call = adminClient(server);
  });
  after(() => server.stop());

  it('admin bootstrap prints a key that gets an admin token; a second bootstrap is refused', async () => {
    const out = await json('bootstrap', '--name', 'terraform', '--generate-key', 'ES256');
    assert.equal(out.resource, `${server.issuer}/admin/api/v1`);
    assert.equal(out.private_key.kty, 'EC');
    admin = { clientId: out.client_id, key: out.private_key };

    // The README's way: the key file, the signing script, a form post, then the API.
    const file = join(server.dir, 'admin.json');
    writeFileSync(file, JSON.stringify(out), { mode: 0o600 });
    const { stdout: assertion } = await promisify(execFile)(process.execPath, ['scripts/sign-assertion.mjs', file, server.issuer]);
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: assertion.trim(), resource: out.resource }),
    });
    const issued = (await res.json()) as { access_token: string; scope: string; expires_in: number };
    assert.equal(res.status, 200, JSON.stringify(issued));
    assert.equal(issued.scope, 'latchkey:admin');
    assert.equal(issued.expires_in, 600);
    token = issued.access_token;
    const created = await call('POST', '/clients', { token, body: { client_name: 'Billing', redirect_uris: ['https://billing.example.com/callback'] } });
    assert.equal(created.status, 201);
    assert.equal((await tokenFor(server, admin)).split('.').length, 3);

    const again = await cli('bootstrap', '--name', 'second', '--generate-key', 'ES256', '--json');
    assert.equal(again.code, 1);
    assert.match(errorLines(again.stderr)[0]!, /an admin service account already exists/);
    const shown = (await call('GET', `/service-accounts/${admin.clientId}`, { token })).body;
    assert.equal(JSON.stringify(shown).includes(out.private_key.d), false, 'the private key is not stored or shown');
  });

  it("a client created through either door is the same client, and each door sees the other's", async () => {
    const flags = ['--name', 'Shop', '--redirect-uri', 'https://shop.example.test/cb', '--scope', 'openid email', '--require-mfa'];
    const viaCli = await json('client', 'create', ...flags);
    const viaApi = (
      await call('POST', '/clients', {
        token,
        body: { client_name: 'Shop', redirect_uris: ['https://shop.example.test/cb'], scope: 'openid email', require_mfa: true },
      })
    ).body;
    const cliShow = await json('client', 'show', viaApi.client.client_id);
    const apiShow = (await call('GET', `/clients/${viaCli.client_id}`, { token })).body;
    assert.deepEqual(stable(apiShow), stable(cliShow));
    assert.deepEqual(stable(cliShow), stable(viaApi.client));

    // Rotation through each door: both list a current and a previous secret.
    const rotatedCli = await json('client', 'rotate-secret', viaCli.client_id, '--overlap', '600');
    const rotatedApi = (await call('POST', `/clients/${viaApi.client.client_id}/rotate-secret`, { token, body: { overlap_seconds: 600 } })).body;
    assert.ok(rotatedCli.client_secret && rotatedApi.client_secret);
    for (const id of [viaCli.client_id, viaApi.client.client_id]) {
      assert.deepEqual(
        (await json('client', 'show', id)).client_secrets.map((s: { state: string }) => s.state),
        ['current', 'previous'],
      );
    }
  });

  it('the same change through each door gives the same effect and the same audit record, but for the actor', async () => {
    const a = await json('user', 'create', '--email', 'cli-made@example.test', '--password', 'a long passphrase', '--name', 'Cee');
    const b = (await call('POST', '/users', { token, body: { email: 'api-made@example.test', password: 'a long passphrase', name: 'Cee' } })).body;

    await json('user', 'disable', a.id);
    const etag = (await call('GET', `/users/${b.id}`, { token })).headers.get('etag')!;
    assert.equal((await call('PATCH', `/users/${b.id}`, { token, body: { disabled: true }, headers: { 'if-match': etag } })).status, 200);

    const listed = (await json('user', 'list', '--email=made@example.test')).users as { id: string; disabled: boolean }[];
    assert.deepEqual(
      listed.map((u) => [u.id, u.disabled]).sort(),
      [
        [a.id, true],
        [b.id, true],
      ].sort(),
    );

    const events = (await call('GET', '/audit-events?type=user.', { token })).body.items as { type: string; actor: string; target: string; detail: unknown }[];
    const of = (id: string) =>
      events.filter((e) => e.target === `user:${id}`).map((e) => ({ type: e.type, detail: { ...(e.detail as object), email: undefined } }));
    assert.deepEqual(of(a.id), of(b.id));
    assert.deepEqual(
      of(a.id).map((e) => e.type),
      ['user.updated', 'user.created'],
    );
    assert.deepEqual(of(a.id)[0]!.detail, { disabled: { from: false, to: true }, email: undefined });
    const actor = (id: string) => new Set(events.filter((e) => e.target === `user:${id}`).map((e) => e.actor));
    assert.deepEqual([...actor(a.id)], [`cli:${userInfo().username}`]);
    assert.deepEqual([...actor(b.id)], [`service_account:${admin.clientId}`]);

    const cliAudit = (await json('audit', 'list', '--type', 'user.', '--user', a.id)).events as { type: string }[];
    assert.deepEqual(
      cliAudit.map((e) => e.type),
      ['user.updated', 'user.created'],
    );
    const everything = JSON.stringify(await server.runtime.audit.list({ limit: 10_000 }));
    assert.equal(everything.includes('a long passphrase'), false, 'no password in the audit trail');
  });

  it('resource create --scope-role / --machines-only and resource update: the same resource and audit as the API, refusals naming the problem', async () => {
    const viaCli = await json(
      'resource',
      'create',
      '--identifier',
      'https://cmdb-cli.example.test',
      '--scope',
      'cmdb.read cmdb.write admin.users',
      '--scope-role',
      'admin.users=admin',
      '--scope-role',
      'cmdb.write=admin,ops',
    );
    const viaApi = (
      await call('POST', '/resources', {
        token,
        body: {
          identifier: 'https://cmdb-api.example.test',
          scope: 'cmdb.read cmdb.write admin.users',
          scope_roles: { 'admin.users': ['admin'], 'cmdb.write': ['admin', 'ops'] },
        },
      })
    ).body;
    const same = (r: Record<string, unknown>) => ({ ...r, identifier: undefined, created_at: undefined });
    assert.deepEqual(same(viaCli), same(viaApi));
    assert.deepEqual(viaCli.scope_roles, { 'admin.users': ['admin'], 'cmdb.write': ['admin', 'ops'] });

    const updated = await json(
      'resource',
      'update',
      'https://cmdb-cli.example.test',
      '--scope-role',
      'cmdb.write=',
      '--scope-role',
      'cmdb.read=staff',
      '--machines-only',
      'true',
    );
    assert.deepEqual(updated.scope_roles, { 'admin.users': ['admin'], 'cmdb.read': ['staff'] });
    assert.equal(updated.machines_only, true);
    const dropped = await json('resource', 'update', 'https://cmdb-cli.example.test', '--scope', 'cmdb.read cmdb.write');
    assert.deepEqual(dropped.scope_roles, { 'cmdb.read': ['staff'] }, 'a scope dropped takes its roles with it');
    assert.deepEqual(
      (await json('resource', 'list')).resources.find((r: { identifier: string }) => r.identifier === 'https://cmdb-cli.example.test'),
      dropped,
    );

    for (const [args, message] of [
      [
        ['create', '--identifier', 'https://x.example.test', '--scope', 'x.read', '--scope-role', 'x.write=admin'],
        /"x\.write", which the resource does not define/,
      ],
      [['create', '--identifier', 'https://x.example.test', '--scope', 'x.read', '--scope-role', 'x.read'], /SCOPE=ROLE/],
      [['create', '--identifier', 'https://x.example.test', '--scope', 'x.read', '--scope-role', 'x.read=bad role'], /role "bad role"/],
      [['update', 'https://cmdb-cli.example.test', '--machines-only', 'yes'], /--machines-only must be true or false/],
      [['update', 'https://nowhere.example.test', '--scope', 'a'], /not found/],
      [['update', `${server.issuer}/admin/api/v1`, '--machines-only', 'false'], /always for machines only/],
    ] as const) {
      const r = await cli('resource', ...args, '--json');
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
    const events = (await call('GET', '/audit-events?type=resource.updated', { token })).body.items as {
      actor: string;
      target: string;
      detail: Record<string, unknown>;
    }[];
    const mine = events.filter((e) => e.target === 'resource:https://cmdb-cli.example.test');
    assert.equal(mine.length, 2);
    assert.ok(mine.every((e) => e.actor === `cli:${userInfo().username}`));
    assert.deepEqual(mine[1]!.detail.machines_only, { from: false, to: true });
  });

  it('every CLI change is audited with the OS user: keys, resources, service accounts', async () => {
    await json('resource', 'create', '--identifier', 'https://cli.example.test', '--scope', 'cli.read');
    const sa = await json('service-account', 'create', '--name', 'cli-sa', '--scope', 'cli.read', '--generate-key', 'ES256');
    await json('service-account', 'disable', sa.client_id);
    await json('keys', 'rotate', '--alg', 'ES256');
    await json('user', 'reset-mfa', (await json('user', 'create', '--email', 'mfa@example.test', '--password', 'a long passphrase')).id);
    const events = (await call('GET', `/audit-events?limit=50`, { token })).body.items as {
      type: string;
      actor: string;
      detail: Record<string, unknown> | null;
    }[];
    const mine = events.filter((e) => e.actor === `cli:${userInfo().username}`).map((e) => e.type);
    for (const t of ['resource.created', 'service_account.created', 'service_account.updated', 'signing_key.rotated', 'user.mfa_reset'])
      assert.ok(mine.includes(t), t);
    const created = events.find((e) => e.type === 'service_account.created' && e.actor.startsWith('cli:'))!;
    assert.equal(JSON.stringify(created).includes(sa.private_key.d), false, 'never a secret');
  });
});
