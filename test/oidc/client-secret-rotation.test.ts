// Rotating a client secret through the admin API, observed at the token
// endpoint as the client sees it: both secrets work during the overlap, only
// the new one after it, and a secret replaced twice stops at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, bootstrapAdmin, tokenFor } from '../helpers/admin-api.ts';
import { startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://ledger.example.test';

describe('client secret rotation with an overlap', () => {
  let server: TestServer;
  let second: TestServer;
  let call: ReturnType<typeof adminClient>;
  let token: string;

  before(async () => {
    server = await startTestServer();
    second = await startSecondNode(server);
    call = adminClient(server);
    token = await tokenFor(server, await bootstrapAdmin(server));
    await server.runtime.resources.create({ identifier: API, scope: 'ledger.read' });
  });
  after(async () => {
    await second.stop();
    await server.stop();
  });

  async function machineClient() {
    const res = await call('POST', '/clients', { token, body: { client_name: 'Nightly', client_credentials: true, api_scope: 'ledger.read' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.client.client_id as string, secret: res.body.client_secret as string };
  }

  async function tokenStatus(node: TestServer, clientId: string, secret: string): Promise<number> {
    const res = await fetch(`${node.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  const rotate = async (id: string, overlap: number) => {
    const res = await call('POST', `/clients/${id}/rotate-secret`, { token, body: { overlap_seconds: overlap } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { client_secret: string; previous_secret_expires_at: string | null };
  };

  it('both secrets work during the overlap, on every node; only the new one after it', async () => {
    const c = await machineClient();
    assert.equal(await tokenStatus(server, c.id, c.secret), 200);
    const rotated = await rotate(c.id, 2);
    const until = Date.parse(rotated.previous_secret_expires_at!);
    assert.ok(until > Date.now() && until <= Date.now() + 2500);
    await new Promise((r) => setTimeout(r, 300)); // the other node's cache check (CHECK_EVERY_MS)
    for (const node of [server, second]) {
      assert.equal(await tokenStatus(node, c.id, rotated.client_secret), 200, 'the new secret works at once');
      assert.equal(await tokenStatus(node, c.id, c.secret), 200, 'the old secret works during the overlap');
    }
    const shown = (await call('GET', `/clients/${c.id}`, { token })).body.client_secrets;
    assert.deepEqual(
      shown.map((s: { state: string; expires_at: string | null }) => [s.state, s.expires_at]),
      [
        ['current', null],
        ['previous', rotated.previous_secret_expires_at],
      ],
    );

    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 100));
    for (const node of [server, second]) {
      assert.equal(await tokenStatus(node, c.id, c.secret), 401, 'the old secret is refused after the overlap');
      assert.equal(await tokenStatus(node, c.id, rotated.client_secret), 200);
    }
    assert.deepEqual(
      (await call('GET', `/clients/${c.id}`, { token })).body.client_secrets.map((s: { state: string }) => s.state),
      ['current'],
    );
  });

  it('without an overlap the old secret stops at once; rotating again ends the earlier overlap', async () => {
    const c = await machineClient();
    const first = await rotate(c.id, 0);
    assert.equal(first.previous_secret_expires_at, null);
    assert.equal(await tokenStatus(server, c.id, c.secret), 401);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await tokenStatus(second, c.id, c.secret), 401, 'and on the other node after its cache check');

    const second1 = await rotate(c.id, 3600);
    const third = await rotate(c.id, 3600);
    assert.equal(await tokenStatus(server, c.id, first.client_secret), 401, 'two rotations ago: no longer accepted');
    assert.equal(await tokenStatus(server, c.id, second1.client_secret), 200, 'the previous one, in its overlap');
    assert.equal(await tokenStatus(server, c.id, third.client_secret), 200);
  });

  it('a public client has no secret to rotate (409), an unknown one is 404, and a bad overlap is a named field', async () => {
    const pub = await call('POST', '/clients', { token, body: { client_name: 'SPA', public: true, redirect_uris: ['http://localhost:5173/cb'] } });
    assert.equal((await call('POST', `/clients/${pub.body.client.client_id}/rotate-secret`, { token, body: {} })).status, 409);
    assert.equal((await call('POST', '/clients/nope/rotate-secret', { token, body: {} })).status, 404);
    const bad = await call('POST', '/clients/nope/rotate-secret', { token, body: { overlap_seconds: -1 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'overlap_seconds');
  });
});
