// Dynamic client registration (RFC 7591) behind operator-issued initial access
// tokens, with RFC 7592 management: tried the way someone without the right
// token, or with another client's, would try it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCli } from '../helpers/cli.ts';
import { advanceClock, startTestServer, type TestServer } from '../helpers/server.ts';

const APP = {
  client_name: 'Desk Agent',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};

describe('dynamic client registration behind initial access tokens', () => {
  let server: TestServer;
  let cli: ReturnType<typeof adminCli>;

  before(async () => {
    // Registrations count against the per-address authorization budget: roomy enough for the tests before the last.
    server = await startTestServer({ DYNAMIC_CLIENT_REGISTRATION: 'token', RATE_LIMIT_AUTHORIZE: '30/600' });
    cli = adminCli(() => server.env);
  });
  after(async () => {
    await server?.stop();
  });

  const newToken = async (...args: string[]) => {
    const out = await cli('client', 'registration-token', 'create', ...args, '--json');
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout) as { registration_token: string; expires_at: string | null; uses: number | null };
  };
  const register = async (body: unknown, token?: string) => {
    const res = await fetch(`${server.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string>, wwwAuthenticate: res.headers.get('www-authenticate') };
  };

  it('is advertised, and refuses a registration without a token', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(discovery.registration_endpoint, `${server.issuer}/reg`);
    const res = await register(APP);
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_token');
    assert.match(res.body.error_description!, /initial access token is required/);
    assert.match(res.wwwAuthenticate ?? '', /^Bearer /);
  });

  it('a token of 256 bits, shown once, allows exactly its uses even in parallel; a used-up token is refused', async () => {
    const { registration_token: token, uses } = await newToken('--uses', '2');
    assert.equal(uses, 2);
    assert.match(token, /^lkreg_[A-Za-z0-9_-]{43}$/);
    const stored = await server.runtime.db.registrationToken.findMany();
    assert.ok(
      stored.every((row) => !token.includes(row.id) && row.id !== token),
      'only a keyed hash is stored',
    );
    const made = await server.runtime.audit.list({ type: 'client.registration_token_created' });
    assert.ok(made.length >= 1 && made.every((e) => e.actor?.startsWith('cli:')), "the token's creation is audited as the operator's");
    assert.ok(!JSON.stringify(made).includes(token.slice(6)), 'never with the token');
    const results = await Promise.all(Array.from({ length: 5 }, () => register(APP, token)));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 201, 401, 401, 401]);
    const refused = results.find((r) => r.status === 401)!;
    assert.equal(refused.body.error_description, 'initial access token used up');
    const created = results.find((r) => r.status === 201)!.body;
    assert.match(created.client_id!, /^latchkey-reg-/);
    assert.equal(created.token_endpoint_auth_method, 'none');
    assert.equal(created.client_secret, undefined, 'no shared secret is issued');
    assert.ok(created.registration_access_token && created.registration_client_uri);
    const audit = await server.runtime.audit.list({ type: 'client.registered' });
    assert.ok(
      audit.some((e) => e.clientId === created.client_id && e.ip),
      'audited with the address',
    );
  });

  it('an expired token is refused (on a moved clock)', async () => {
    const { registration_token: token } = await newToken('--expires', '10m', '--uses', '5');
    advanceClock(server, 11 * 60_000);
    const res = await register(APP, token);
    assert.equal(res.status, 401);
    assert.equal(res.body.error_description, 'initial access token expired');
  });

  it('the policy refuses API scopes, client credentials, secrets and non-loopback http redirects, naming the rule; refusals spend no use', async () => {
    const { registration_token: token } = await newToken('--uses', '1', '--expires', '1h');
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...APP, latchkey_api_scope: 'cmdb.write' }, 'invalid_client_metadata', /API scopes are granted by the server/],
      [{ ...APP, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }, 'invalid_client_metadata', /client_credentials/],
      [{ ...APP, token_endpoint_auth_method: undefined }, 'invalid_client_metadata', /client_secret_basic \(the default\) is not allowed/],
      [{ ...APP, redirect_uris: ['http://app.example.com/callback'] }, 'invalid_redirect_uri', /https, or http on a loopback address/],
      [{ ...APP, redirect_uris: ['myapp://callback'] }, 'invalid_redirect_uri', /https, or http on a loopback/],
    ];
    for (const [body, error, description] of cases) {
      const res = await register(body, token);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error, error, JSON.stringify(body));
      assert.match(res.body.error_description!, description);
    }
    assert.equal((await register(APP, token)).status, 201, 'the one use is still there after five refusals');
  });

  it("client A's registration access token can neither read nor change client B", async () => {
    const { registration_token: token } = await newToken('--uses', '2');
    const a = (await register({ ...APP, client_name: 'A' }, token)).body;
    const b = (await register({ ...APP, client_name: 'B' }, token)).body;
    const withA = (method: string, clientId: string, body?: unknown) =>
      fetch(`${server.issuer}/reg/${clientId}`, {
        method,
        headers: { authorization: `Bearer ${a.registration_access_token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const read = await withA('GET', b.client_id!);
    assert.equal(read.status, 401);
    assert.equal(((await read.json()) as { error: string }).error, 'invalid_token');
    const b2 = await fetch(b.registration_client_uri!, { headers: { authorization: `Bearer ${b.registration_access_token}` } });
    assert.equal(b2.status, 200);
    const bRead = (await b2.json()) as Record<string, unknown>;
    assert.equal(bRead.client_name, 'B');
    const put = await fetch(b.registration_client_uri!, {
      method: 'PUT',
      headers: { authorization: `Bearer ${a.registration_access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...APP, client_id: b.client_id, client_name: 'taken over', redirect_uris: ['https://evil.example/cb'] }),
    });
    assert.equal(put.status, 401);
    const del = await withA('DELETE', b.client_id!);
    assert.equal(del.status, 401);
    const stillB = await fetch(b.registration_client_uri!, { headers: { authorization: `Bearer ${b.registration_access_token}` } });
    assert.equal(((await stillB.json()) as Record<string, unknown>).client_name, 'B');
  });

  it('its own token updates (policy still applied) and deletes a client; unused registrations are swept', async () => {
    const { registration_token: token } = await newToken('--uses', '2');
    const c = (await register({ ...APP, client_name: 'C' }, token)).body;
    const update = (body: unknown, rat: string) =>
      fetch(c.registration_client_uri!, {
        method: 'PUT',
        headers: { authorization: `Bearer ${rat}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bad = await update({ ...APP, client_id: c.client_id, grant_types: ['client_credentials'] }, c.registration_access_token!);
    assert.equal(bad.status, 400);
    const good = await update({ ...APP, client_id: c.client_id, client_name: 'C renamed' }, c.registration_access_token!);
    assert.equal(good.status, 200);
    const updated = (await good.json()) as Record<string, string>;
    assert.equal(updated.client_name, 'C renamed');
    const del = await fetch(c.registration_client_uri!, { method: 'DELETE', headers: { authorization: `Bearer ${updated.registration_access_token}` } });
    assert.equal(del.status, 204);
    assert.equal(await server.runtime.db.client.count({ where: { id: c.client_id } }), 0);

    const d = (await register({ ...APP, client_name: 'D' }, token)).body;
    const removed = await server.runtime.clients.sweepUnusedRegistered(new Date(Date.now() + 86_400_000));
    assert.ok(removed >= 1);
    assert.equal(await server.runtime.db.client.count({ where: { id: d.client_id } }), 0, 'a registration nobody used is gone');
  });

  it('registrations are limited per address (RATE_LIMIT_AUTHORIZE), before any token is looked at', async () => {
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await register(APP, 'lkreg_not-a-token'));
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(limited.length > 0 && answers.length - limited.length <= 30, answers.map((a) => a.status).join(' '));
    assert.equal(answers.at(-1)!.status, 429);
  });
});
