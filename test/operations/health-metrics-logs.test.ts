// What an operator watches: health, readiness, Prometheus metrics, request logs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, type Page } from '../helpers/browser.ts';
import { codeFlow, createUser, registerClient, submitLogin, authRequest, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { TABLES } from '../../src/metrics.ts';

describe('health, readiness, metrics and request logs', () => {
  let server: TestServer;
  let client: TestClient;
  const token = 'metrics-secret-token-0123456789';
  before(async () => {
    // No timers querying the database between two scrapes.
    server = await startTestServer({ METRICS_TOKEN: token, JWKS_MAX_AGE: '321', KEY_REFRESH_INTERVAL: '3600', SWEEP_INTERVAL: '3600' });
    client = await registerClient(server);
  });
  after(() => server.stop());

  type Readiness = { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
  const operatorsReadyz = () => fetch(`${server.operationsUrl}/readyz`, { headers: { authorization: `Bearer ${token}` } });

  it('/healthz says the process is alive; /readyz checks database, migrations and signing keys', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as Readiness;
    assert.deepEqual(
      body,
      { status: 'ready', checks: { database: { ok: true }, migrations: { ok: true }, signing_key: { ok: true } } },
      'no details for anonymous callers',
    );
    const detailed = (await (await operatorsReadyz()).json()) as Readiness;
    assert.match(detailed.checks.migrations!.detail!, /\d+ applied/);
    assert.deepEqual(detailed.checks.signing_key!.detail!.split(', ').sort(), [...server.live.signingKids].sort());
    assert.equal((await fetch(`${server.operationsUrl}/readyz`)).status, 401, 'the details need the token');
  });

  it('/readyz turns 503 when a migration is missing from the database, and says why only to operators', async () => {
    await server.runtime.db.$executeRawUnsafe(
      `UPDATE _prisma_migrations SET rolled_back_at = finished_at WHERE migration_name = (SELECT MAX(migration_name) FROM _prisma_migrations)`,
    );
    try {
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      const text = await res.text();
      assert.deepEqual(JSON.parse(text).checks.migrations, { ok: false });
      assert.doesNotMatch(text, /hash_artifact_ids|not applied|detail/);
      const detailed = (await (await operatorsReadyz()).json()) as Readiness;
      assert.equal(detailed.status, 'not_ready');
      assert.match(detailed.checks.migrations!.detail!, /not applied/);
    } finally {
      await server.runtime.db.$executeRawUnsafe('UPDATE _prisma_migrations SET rolled_back_at = NULL');
    }
  });

  it('JWKS responses carry Cache-Control with the configured max-age', async () => {
    const res = await fetch(`${server.url}/jwks`);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=321');
  });

  it("the operators' listener answers loopback names only (no DNS rebinding from a browser)", async () => {
    const { request } = await import('node:http');
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(server.operationsUrl!);
        request({ hostname: u.hostname, port: u.port, path: '/healthz', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end();
      });
    assert.equal(await status('attacker.example:9464'), 400);
    assert.equal(await status(`localhost:${new URL(server.operationsUrl!).port}`), 200);
    assert.equal(await status(new URL(server.operationsUrl!).host), 200);
  });

  it("/metrics is not on the public listener; the operators' listener needs the token", async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 404);
    for (const wrong of [`Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, token, '']) {
      assert.equal((await fetch(`${server.operationsUrl}/metrics`, { headers: { authorization: wrong } })).status, 401, wrong);
    }
  });

  it('/metrics reports tokens, errors, logins, latency, DB time and table rows', async () => {
    const person = await createUser(server);
    await codeFlow(client, new Browser(server.url), person);
    const browser = new Browser(server.url);
    await submitLogin(browser, (await browser.navigate((await authRequest(client)).url.href)) as Page, person.email, 'wrong password');
    await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=nope&client_id=x',
    });

    assert.equal((await fetch(`${server.operationsUrl}/metrics`)).status, 401);
    const res = await fetch(`${server.operationsUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /latchkey_tokens_issued_total\{grant_type="authorization_code"\} 1/);
    assert.match(text, /latchkey_token_errors_total\{error="invalid_client"\} \d/);
    assert.match(text, /latchkey_logins_total\{result="succeeded"\} 1/);
    assert.match(text, /latchkey_logins_total\{result="failed"\} 1/);
    assert.match(text, /latchkey_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/token",status="200"\}/);
    assert.match(text, /latchkey_http_request_duration_seconds_count\{method="GET",route="\/interaction\/:uid",status="200"\}/);
    assert.match(text, /latchkey_db_query_duration_seconds_count\{operation="query"\} [1-9]/);
    assert.match(text, /latchkey_table_rows\{table="users"\} 1/);
    assert.match(text, /latchkey_table_rows\{table="oidc_payloads"\} [1-9]/);
    assert.match(text, /latchkey_table_rows\{table="link_tokens"\} \d+/, 'the tables sign-up and passkeys fill are watched too');
  });

  it('scrapes within a minute reuse the row counts: the second counts no table again', async () => {
    const scrape = async () => (await fetch(`${server.operationsUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const queries = (text: string) => Number(/latchkey_db_query_duration_seconds_count\{operation="query"\} (\d+)/.exec(text)?.[1] ?? 0);
    await scrape();
    const before = queries(await scrape());
    const after = queries(await scrape());
    // Counting again would be one query per table. The server's own pollers (the back-channel
    // logout queue, every second) may query between two scrapes of a loaded machine: one or two, never a table's worth.
    assert.ok(after - before < Object.keys(TABLES).length / 2, `${after - before} queries during a scrape within the minute`);
  });

  it('one JSON log line per request with a request id, echoing X-Request-ID; no query string, code or secret', async () => {
    const res = await fetch(`${server.url}/healthz?code=should-not-be-logged`, { headers: { 'x-request-id': 'trace-abc-123' } });
    assert.equal(res.headers.get('x-request-id'), 'trace-abc-123');
    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.req_id === 'trace-abc-123');
    assert.ok(line, 'a line for the request');
    assert.equal(line.path, '/healthz');
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, 'number');
    const generated = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(generated.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/, 'an unusable id is replaced');
    const all = server.logs.join('\n');
    assert.doesNotMatch(all, /should-not-be-logged/);
    assert.doesNotMatch(all, /client_secret|"password"/);
  });
});
