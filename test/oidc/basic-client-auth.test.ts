// A resource server's API-key check with HTTP Basic is answered without the
// provider's introspection pipeline (src/oidc/basic-client-auth.ts). What
// must hold: the answer is the provider path's answer, and every request the
// provider would refuse still reaches it and is refused as before — tried as
// an attacker would, with other clients' secrets, mixed credentials, forged
// headers and replaced secrets, in parallel.
import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { after, before, describe, it } from 'node:test';
import { basicClientOf } from '../../src/oidc/basic-client-auth.ts';
import { createUser } from '../helpers/relying-party.ts';
import { basic, resourceServerClient } from '../helpers/api-keys.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createChangeTracker } from '../../src/services/machines/config-cache.ts';

const BILLING = 'https://billing.example.test';

describe('API-key introspection without the provider pipeline', () => {
  let server: TestServer;
  let rs: { id: string; secret: string };
  let other: { id: string; secret: string };
  let key: string;
  let saId: string;

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read invoices.write' });
    rs = await resourceServerClient(server, [BILLING]);
    other = await resourceServerClient(server, [BILLING]);
    const person = await createUser(server);
    ({ key } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'script', scope: 'invoices.read' }));
    saId = (await server.runtime.serviceAccounts.create({ name: 'exporter', scope: 'invoices.read', generateKey: 'ES256' })).account.clientId;
  });
  after(() => server.stop());

  async function post(form: string | URLSearchParams, headers: Record<string, string>) {
    const res = await fetch(`${server.url}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form,
    });
    return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as Record<string, unknown> };
  }

  /** What basicClientOf decides for a request, against this server's provider. */
  const decide = (headers: Record<string, string>, body: Record<string, unknown>) =>
    basicClientOf({ headers } as unknown as Context, body, server.live.current);

  it("answers exactly what the provider's path answers", async () => {
    const fast = await post(new URLSearchParams({ token: key }), { authorization: basic(rs.id, rs.secret) });
    // The same request with client_id repeated in the form (the provider accepts it) goes through the provider.
    const full = await post(new URLSearchParams({ token: key, client_id: rs.id }), { authorization: basic(rs.id, rs.secret) });
    assert.equal(fast.status, 200);
    assert.equal(fast.body.active, true);
    assert.equal(fast.body.token_type, 'api_key');
    assert.deepEqual(fast.body, full.body);
    assert.equal(fast.cache, 'no-store');
    assert.equal(full.cache, 'no-store');
  });

  it('decides for a well-formed Basic request of a secret-authenticated client, and for nothing else', async () => {
    const form = { token: key };
    const ok = await decide({ authorization: basic(rs.id, rs.secret) }, form);
    assert.equal(ok?.clientId, rs.id, 'the one case it answers');
    const refused: [string, Record<string, string>, Record<string, unknown>][] = [
      ['a wrong secret', { authorization: basic(rs.id, 'nope') }, form],
      ["another client's secret", { authorization: basic(rs.id, other.secret) }, form],
      ['an unknown client', { authorization: basic('no-such-client', rs.secret) }, form],
      ['a client that authenticates with keys (private_key_jwt)', { authorization: basic(saId, rs.secret) }, form],
      ['client_id in the form too', { authorization: basic(rs.id, rs.secret) }, { ...form, client_id: rs.id }],
      ['a client_secret in the form too', { authorization: basic(rs.id, rs.secret) }, { ...form, client_secret: rs.secret }],
      ['a client assertion too', { authorization: basic(rs.id, rs.secret) }, { ...form, client_assertion: 'x.y.z' }],
      ['a browser origin (CORS is the provider’s)', { authorization: basic(rs.id, rs.secret), origin: 'https://evil.example' }, form],
      ['a DPoP proof', { authorization: basic(rs.id, rs.secret), dpop: 'x.y.z' }, form],
      ['a client attestation', { authorization: basic(rs.id, rs.secret), 'oauth-client-attestation': 'x.y.z' }, form],
      ["an attestation's proof", { authorization: basic(rs.id, rs.secret), 'oauth-client-attestation-pop': 'x.y.z' }, form],
      ['a client metadata document’s URL', { authorization: basic('https://apps.example/client', rs.secret) }, form],
      ['a Bearer header', { authorization: `Bearer ${rs.secret}` }, form],
      ['no colon', { authorization: `Basic ${Buffer.from(rs.id).toString('base64')}` }, form],
      ['an empty secret', { authorization: `Basic ${Buffer.from(`${rs.id}:`).toString('base64')}` }, form],
      ['bad base64', { authorization: 'Basic !!!!' }, form],
      ['a bad percent-encoding', { authorization: `Basic ${Buffer.from(`${rs.id}:%E0%A4%A`).toString('base64')}` }, form],
      ['a control character', { authorization: `Basic ${Buffer.from(`${rs.id}:a%0Ab`).toString('base64')}` }, form],
    ];
    for (const [name, headers, body] of refused) assert.equal(await decide(headers, body), undefined, name);
  });

  it('every request the provider refuses still reaches it and is refused the same way, in parallel with good ones', async () => {
    const attacks: [string, string | URLSearchParams, Record<string, string>, number, string][] = [
      ['a wrong secret', new URLSearchParams({ token: key }), { authorization: basic(rs.id, 'nope') }, 401, 'invalid_client'],
      ["another client's secret", new URLSearchParams({ token: key }), { authorization: basic(rs.id, other.secret) }, 401, 'invalid_client'],
      ['an unknown client', new URLSearchParams({ token: key }), { authorization: basic('no-such-client', rs.secret) }, 401, 'invalid_client'],
      ['a key-authenticated client', new URLSearchParams({ token: key }), { authorization: basic(saId, rs.secret) }, 401, 'invalid_client'],
      ['a mismatched client_id', new URLSearchParams({ token: key, client_id: other.id }), { authorization: basic(rs.id, rs.secret) }, 400, 'invalid_request'],
      ['two mechanisms', new URLSearchParams({ token: key, client_secret: rs.secret }), { authorization: basic(rs.id, rs.secret) }, 400, 'invalid_request'],
      ['a repeated token', `token=${key}&token=${key}`, { authorization: basic(rs.id, rs.secret) }, 400, 'invalid_request'],
      ['a repeated hint', `token=${key}&token_type_hint=a&token_type_hint=b`, { authorization: basic(rs.id, rs.secret) }, 400, 'invalid_request'],
      ['no colon', new URLSearchParams({ token: key }), { authorization: `Basic ${Buffer.from(rs.id).toString('base64')}` }, 400, 'invalid_request'],
    ];
    const good = () => post(new URLSearchParams({ token: key }), { authorization: basic(rs.id, rs.secret) });
    const results = await Promise.all([...attacks.map(([, form, headers]) => post(form, headers)), ...Array.from({ length: 10 }, good)]);
    attacks.forEach(([name, , , status, error], i) => {
      assert.equal(results[i]!.status, status, name);
      assert.equal(results[i]!.body.error, error, name);
      assert.equal(results[i]!.body.active, undefined, `${name}: nothing about the key`);
    });
    for (const r of results.slice(attacks.length)) assert.equal(r.body.active, true);
  });

  /** Changes a client's stored registration as an older or other version might have left it, and waits until this node sees it. */
  async function restore(clientId: string, change: Record<string, unknown>) {
    const row = await server.runtime.db.client.findUniqueOrThrow({ where: { id: clientId } });
    const metadata = { ...(JSON.parse(row.metadata) as Record<string, unknown>), ...change };
    await server.runtime.db.client.update({ where: { id: clientId }, data: { metadata: JSON.stringify(metadata) } });
    await createChangeTracker(server.runtime.db, server.runtime.clock).changed('clients');
    const until = Date.now() + 5000;
    for (;;) {
      const seen = (await server.live.current.Client.find(clientId))?.metadata() as Record<string, unknown> | undefined;
      if (Object.entries(change).every(([k, v]) => seen?.[k] === v)) return;
      if (Date.now() > until) throw new Error(`the node did not see ${clientId}'s change`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('what the provider refuses is refused even with the right secret: URL-safe base64, a non-ASCII secret, another method, an expired secret', async () => {
    const cases: [string, () => Promise<Record<string, string>>, number, string][] = [
      [
        'URL-safe base64 (the provider reads only the standard alphabet)',
        async () => {
          const c = await resourceServerClient(server, [BILLING]);
          // A secret whose header has + or /, sent with - and _ (which Node's decoder would accept).
          // '~' is 0x7E: it ends a base64 group as '+' at one of the three alignments.
          for (let i = 0; i < 3; i++) {
            const secret = `${c.secret}${'a'.repeat(i)}~`;
            const standard = Buffer.from(`${c.id}:${secret}`).toString('base64');
            if (!/[+/]/.test(standard)) continue;
            await server.runtime.clients.setSecret(c.id, secret);
            return { authorization: `Basic ${standard.replaceAll('+', '-').replaceAll('/', '_')}` };
          }
          throw new Error('no alignment gave a + or /');
        },
        400,
        'invalid_request',
      ],
      [
        'a secret outside printable ASCII',
        async () => {
          const c = await resourceServerClient(server, [BILLING]);
          const secret = `é${c.secret}`;
          await server.runtime.clients.setSecret(c.id, secret);
          return { authorization: basic(c.id, secret) };
        },
        400,
        'invalid_request',
      ],
      [
        'a client registered for another method, with a secret',
        async () => {
          const c = await resourceServerClient(server, [BILLING]);
          await restore(c.id, { token_endpoint_auth_method: 'none' });
          return { authorization: basic(c.id, c.secret) };
        },
        401,
        'invalid_client',
      ],
      [
        'an expired secret',
        async () => {
          const c = await resourceServerClient(server, [BILLING]);
          await restore(c.id, { client_secret_expires_at: Math.floor(Date.now() / 1000) - 3600 });
          return { authorization: basic(c.id, c.secret) };
        },
        400,
        'invalid_client',
      ],
    ];
    for (const [name, prepare, status, error] of cases) {
      const headers = await prepare();
      assert.equal(await decide(headers, { token: key }), undefined, name);
      const r = await post(new URLSearchParams({ token: key }), headers);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, error, name);
    }
  });

  it('a replaced secret stops working at once, and a deleted client at once', async () => {
    const rotated = await resourceServerClient(server, [BILLING]);
    assert.equal((await post(new URLSearchParams({ token: key }), { authorization: basic(rotated.id, rotated.secret) })).body.active, true);
    const { clientSecret } = await server.runtime.clients.rotateSecret(rotated.id, 0);
    const old = await post(new URLSearchParams({ token: key }), { authorization: basic(rotated.id, rotated.secret) });
    assert.equal(old.status, 401);
    assert.equal((await post(new URLSearchParams({ token: key }), { authorization: basic(rotated.id, clientSecret) })).body.active, true);
    await server.runtime.clients.delete(rotated.id);
    assert.equal((await post(new URLSearchParams({ token: key }), { authorization: basic(rotated.id, clientSecret) })).status, 401);
  });
});

describe('refusals of key checks count against the failure budget, as the provider path counts them', () => {
  let server: TestServer;
  let key: string;
  before(async () => {
    server = await startTestServer({ RATE_LIMIT_FAILURES: '3/60', CLIENT_ID_METADATA_DOCUMENTS: 'https://apps.example/' });
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read' });
    const person = await createUser(server);
    ({ key } = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'script', scope: 'invoices.read' }));
  });
  after(() => server.stop());

  it('wrong secrets and unusable client ids are refused by the provider, counted, and then throttled', async () => {
    const rs = await resourceServerClient(server, [BILLING]);
    const tries = [
      basic(rs.id, 'nope'),
      basic('https://apps.example/client', 'whatever'), // a metadata document's id: the provider's own refusal, not an error
      basic('https://elsewhere.example/client', 'whatever'),
    ];
    for (const authorization of tries) {
      const res = await fetch(`${server.url}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, accept: 'application/json' },
        body: new URLSearchParams({ token: key }),
      });
      assert.ok(res.status === 400 || res.status === 401, `${authorization}: ${res.status} ${await res.text()}`);
    }
    const fourth = await fetch(`${server.url}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs.id, 'nope') },
      body: new URLSearchParams({ token: key }),
    });
    assert.equal(fourth.status, 429, 'three failures from this address, and the fourth request is throttled');
    assert.equal(server.logs.filter((l) => l.includes('unhandled')).length, 0, 'no server error on the way');
  });
});
