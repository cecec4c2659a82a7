// Machine-token activity in the audit trail, driven over HTTP: issuance is
// counted (one row per client, grant type and hour, however many tokens),
// failures are kept one per row but bounded per client and overall, so a
// flood cannot grow the table; the sweep's retention covers the new rows.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sweep } from '../../../src/services/ops/sweeper.ts';
import { assertionFor, JWT_BEARER, type Signer } from '../../helpers/admin-api.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const API = 'https://usage.example.test';
const PER_MINUTE = 3;

describe('token usage in the audit trail', () => {
  let server: TestServer;
  let app: { id: string; secret: string };
  let account: Signer;

  before(async () => {
    // The timer never fires during the test: flushes are explicit, as a crash-free shutdown or the interval would do.
    server = await startTestServer({ AUDIT_FLUSH_INTERVAL: '3600', AUDIT_FAILURES_PER_MINUTE: String(PER_MINUTE) });
    await server.runtime.resources.create({ identifier: API, scope: 'usage.read' });
    const { client, clientSecret } = await server.runtime.clients.create({
      name: 'Counter',
      redirectUris: [],
      clientCredentials: true,
      apiScope: 'usage.read',
    });
    app = { id: client.clientId, secret: clientSecret! };
    const sa = await server.runtime.serviceAccounts.create({ name: 'counted', scope: 'usage.read', generateKey: 'ES256' });
    account = { clientId: sa.account.clientId, key: sa.privateJwk! };
  });
  after(() => server.stop());

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  async function clientCredentials(secret = app.secret, id = app.id): Promise<number> {
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic(id, secret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
    });
    await res.arrayBuffer();
    return res.status;
  }
  async function jwtBearer(assertion: string): Promise<number> {
    const res = await fetch(`${server.issuer}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: JWT_BEARER, assertion, resource: API }) });
    await res.arrayBuffer();
    return res.status;
  }
  const rows = (type: string, clientId?: string) => server.runtime.audit.list({ type, clientId, limit: 10_000 });

  it('counts issued tokens per client, grant type and hour in one row each, written in batches', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, () => clientCredentials()));
    assert.ok(results.every((s) => s === 200));
    for (let i = 0; i < 5; i++) assert.equal(await jwtBearer(await assertionFor(server, account)), 200);
    assert.deepEqual(await rows('tokens_issued'), [], 'nothing is written per token');

    await server.runtime.tokenUsage.flush();
    const [cc] = await rows('tokens_issued', app.id);
    assert.equal(cc!.count, 40);
    assert.equal(cc!.detail!.grant_type, 'client_credentials');
    assert.equal(cc!.at.getTime() % 3_600_000, 0, "the row is the hour's bucket");
    const [jb] = await rows('tokens_issued', account.clientId);
    assert.equal(jb!.count, 5);
    assert.equal(jb!.detail!.grant_type, JWT_BEARER);

    await Promise.all(Array.from({ length: 10 }, () => clientCredentials()));
    await server.runtime.tokenUsage.flush();
    const after = await rows('tokens_issued', app.id);
    assert.equal(after.length, 1, 'the same hour adds to the same row');
    assert.equal(after[0]!.count, 50);
  });

  it('records failures one per row, at most AUDIT_FAILURES_PER_MINUTE per client, and tallies the rest', async () => {
    const wrong = `wrong-${randomUUID()}`;
    // The server's clock stands still, so that the burst falls within one minute whenever the test runs.
    const { clock } = server.runtime;
    const running = clock.now;
    const stopped = running();
    clock.now = () => stopped;
    let assertion: string;
    try {
      const statuses = await Promise.all(Array.from({ length: 25 }, () => clientCredentials(wrong)));
      assert.ok(statuses.every((s) => s === 401));
      assertion = await assertionFor(server, account);
      assert.equal(await jwtBearer(assertion), 200);
      assert.equal(await jwtBearer(assertion), 400, 'replayed');
    } finally {
      clock.now = running;
    }
    await server.runtime.tokenUsage.flush();

    const failed = await rows('token_failed', app.id);
    assert.equal(failed.length, PER_MINUTE);
    assert.equal(failed[0]!.detail!.error, 'invalid_client');
    const replay = (await rows('token_failed', account.clientId))[0]!;
    assert.match(String(replay.detail!.error_description), /already used/);
    const [suppressed] = await rows('token_failures_suppressed');
    assert.equal(suppressed!.count, 25 - PER_MINUTE);
    assert.equal((suppressed!.detail!.by_client as Record<string, number>)[app.id], 25 - PER_MINUTE);

    const everything = JSON.stringify(await server.runtime.audit.list({ limit: 10_000 }));
    assert.equal(everything.includes(wrong), false, 'a presented secret is never recorded');
    assert.equal(everything.includes(assertion), false, 'nor an assertion');
  });

  it('a flood under invented client ids adds a bounded number of rows', async () => {
    const before = (await server.runtime.audit.list({ limit: 100_000 })).length;
    // The bound is per minute of the server's clock: the flood runs within one minute that no
    // earlier test used (on a loaded machine it took 4.5 s and once crossed a real minute's end).
    const { clock } = server.runtime;
    const realNow = clock.now;
    const minute = (Math.floor(realNow() / 60_000) + 2) * 60_000 + 30_000;
    clock.now = () => minute;
    try {
      for (let batch = 0; batch < 4; batch++) {
        await Promise.all(Array.from({ length: 50 }, () => clientCredentials('x', `invented-${randomUUID()}`)));
      }
      await server.runtime.tokenUsage.flush();
    } finally {
      clock.now = realNow;
    }
    const added = (await server.runtime.audit.list({ limit: 100_000 })).length - before;
    // At most ten times the per-client bound for everyone together in a minute, plus one tally row.
    assert.ok(added <= PER_MINUTE * 10 + 1, `${added} rows for 200 failures`);
    const tally = (await rows('token_failures_suppressed'))[0]!;
    assert.ok(tally.count! >= 200 - PER_MINUTE * 10);
  });

  it('the sweep deletes counted and failure rows past the retention', async () => {
    await server.runtime.tokenUsage.flush();
    const types = ['tokens_issued', 'token_failed', 'token_failures_suppressed'];
    for (const t of types) assert.ok((await rows(t)).length > 0, t);
    const later = new Date(Date.now() + 3 * 86_400_000);
    await sweep(server.runtime.db, { auditRetentionDays: 1 }, later);
    for (const t of types) assert.deepEqual(await rows(t), [], t);
  });

  it('a clean shutdown writes what was gathered', async () => {
    const node = await startTestServer({ AUDIT_FLUSH_INTERVAL: '3600' }, undefined);
    await node.runtime.resources.create({ identifier: API, scope: 'usage.read' });
    const { client, clientSecret } = await node.runtime.clients.create({ name: 'Late', redirectUris: [], clientCredentials: true, apiScope: 'usage.read' });
    const res = await fetch(`${node.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic(client.clientId, clientSecret!) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
    });
    assert.equal(res.status, 200);
    let written: number | null | undefined;
    const close = node.runtime.close;
    // Read the row just before the storage closes, after the server's final flush.
    node.runtime.close = async () => {
      written = (await node.runtime.audit.list({ type: 'tokens_issued', clientId: client.clientId }))[0]?.count;
      return close();
    };
    await node.stop();
    assert.equal(written, 1);
  });
});
