// Who may call /api/v1 and /admin/api/v1 with a token, tried as attackers
// would: a DPoP-bound token copied without its key (no proof, a proof from
// their own key, a replayed proof — in parallel and on two nodes — a proof
// for another request or another token), and a person's token whose app was
// deleted or disabled. Honest callers use openid-client, a real DPoP client.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey } from 'jose';
import { adminApiResource } from '../../src/services/admin/administration.ts';
import { CHECK_EVERY_MS } from '../../src/services/machines/config-cache.ts';
import { bootstrapAdmin } from '../helpers/admin-api.ts';
import { Browser } from '../helpers/browser.ts';
import { adminCli } from '../helpers/cli.ts';
import { authRequest, codeFlow, createUser, oidc, registerClient, signIn, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import { startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';

type KeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };

/** An API people may make keys for (Latchkey's own is not one). */
const BILLING = 'https://billing.example.test';

const newKeyPair = () => generateKeyPair('ES256', { extractable: true }) as Promise<KeyPair>;

/** A DPoP proof as RFC 9449 §4.2 shapes it, with any claim overridden (what an attacker controls). */
async function proof(keys: KeyPair, claims: { htm: string; htu: string; token?: string } & Record<string, unknown>, header: Record<string, unknown> = {}) {
  const { token, ...rest } = claims;
  const jwk = await exportJWK(keys.publicKey);
  return new SignJWT({
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    ...(token ? { ath: createHash('sha256').update(token).digest('base64url') } : {}),
    ...rest,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
    .sign(keys.privateKey);
}

describe('the JSON APIs honour DPoP binding', () => {
  let server: TestServer;
  let app: TestClient;
  let person: TestPerson;
  let keys: KeyPair;
  let dpop: oidc.DPoPHandle;
  let bound: string;
  let keysUrl: string;
  const api = () => `${server.issuer}/api`;

  async function boundToken(client: TestClient, who: TestPerson, handle: oidc.DPoPHandle) {
    const req = await authRequest(client, { resource: api(), scope: 'openid api-keys' });
    const callback = await signIn(new Browser(server.url), req, who);
    const tokens = await oidc.authorizationCodeGrant(
      client.config,
      callback,
      { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce },
      undefined,
      { DPoP: handle },
    );
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    return tokens.access_token;
  }

  const raw = (headers: Record<string, string>, method = 'POST', url = keysUrl) =>
    fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(method === 'POST' ? { body: JSON.stringify({ name: 'stolen', scope: 'invoices.read', resource: BILLING }) } : {}),
    });
  const keyCount = async () => (await server.runtime.apiKeys.list({ owner: { userId: person.id } })).length;

  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read' });
    app = await registerClient(server, { apiScope: 'api-keys' });
    person = await createUser(server);
    keys = await newKeyPair();
    dpop = oidc.getDPoPHandle(app.config, keys);
    bound = await boundToken(app, person, dpop);
    keysUrl = `${server.issuer}/api/v1/me/api-keys`;
  });
  after(() => server.stop());

  it('the holder of the key uses the token with a fresh proof per request (openid-client)', async () => {
    const created = await oidc.fetchProtectedResource(
      app.config,
      bound,
      new URL(keysUrl),
      'POST',
      JSON.stringify({ name: 'bound', scope: 'invoices.read', resource: BILLING }),
      new Headers({ 'content-type': 'application/json' }),
      { DPoP: dpop },
    );
    assert.equal(created.status, 201, await created.clone().text());
    const listed = await oidc.fetchProtectedResource(app.config, bound, new URL(keysUrl), 'GET', undefined, undefined, { DPoP: dpop });
    assert.equal(listed.status, 200);
  });

  it('a copied bound token sent as Bearer, or as DPoP without a proof, is refused and creates nothing', async () => {
    const before = await keyCount();
    const asBearer = await raw({ authorization: `Bearer ${bound}` });
    assert.equal(asBearer.status, 401);
    assert.match(asBearer.headers.get('content-type')!, /problem\+json/);
    assert.match(asBearer.headers.get('www-authenticate')!, /^DPoP realm="latchkey", error="invalid_token", error_description="[^"]*bound to a DPoP key/);
    const noProof = await raw({ authorization: `DPoP ${bound}` });
    assert.equal(noProof.status, 401);
    assert.match(
      noProof.headers.get('www-authenticate')!,
      /^DPoP realm="latchkey", error="invalid_dpop_proof", error_description="send a DPoP proof[^"]*", algs="ES256 EdDSA Ed25519"$/,
    );
    assert.equal(await keyCount(), before);
  });

  it("a proof made with the attacker's own key, or forged around it, is refused", async () => {
    const before = await keyCount();
    const mine = await newKeyPair();
    const claims = { htm: 'POST', htu: keysUrl, token: bound };
    const hsKey = new TextEncoder().encode('a'.repeat(32));
    const cases: [string, string, RegExp][] = [
      ["the attacker's key", await proof(mine, claims), /another key/],
      // The victim's public key in the header, signed with the attacker's key.
      ['victim jwk, attacker signature', await proof(mine, claims, { jwk: await exportJWK(keys.publicKey) }), /signature does not verify/],
      [
        'no jwk',
        await new SignJWT({ jti: randomUUID(), iat: Math.floor(Date.now() / 1000), htm: 'POST', htu: keysUrl })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt' })
          .sign(mine.privateKey),
        /jwk/,
      ],
      [
        'HS256',
        await new SignJWT({ jti: randomUUID(), iat: Math.floor(Date.now() / 1000), htm: 'POST', htu: keysUrl })
          .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: Buffer.from(hsKey).toString('base64url') } as never })
          .sign(hsKey),
        /signed with ES256/,
      ],
      [
        'alg none',
        `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })).toString('base64url')}.${Buffer.from(JSON.stringify({ jti: randomUUID(), iat: Math.floor(Date.now() / 1000), htm: 'POST', htu: keysUrl })).toString('base64url')}.`,
        /exactly one proof|signed with/,
      ],
      ['typ JWT', await proof(keys, claims, { typ: 'JWT' }), /typ dpop\+jwt/],
      ['two proofs', `${await proof(keys, claims)}, ${await proof(keys, claims)}`, /exactly one proof/],
    ];
    for (const [label, p, reason] of cases) {
      const res = await raw({ authorization: `DPoP ${bound}`, dpop: p });
      assert.equal(res.status, 401, label);
      assert.match(res.headers.get('www-authenticate')!, /error="invalid_dpop_proof"/, label);
      assert.match(((await res.json()) as { detail: string }).detail, reason, label);
    }
    assert.equal(await keyCount(), before);
  });

  it('a proof for another method, URL, host or token, or too old, is refused', async () => {
    const before = await keyCount();
    const other = await boundToken(await registerClient(server, { apiScope: 'api-keys' }), await createUser(server), oidc.getDPoPHandle(app.config, keys));
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Record<string, unknown> & { htm: string; htu: string }, RegExp][] = [
      ['a GET proof for a POST', { htm: 'GET', htu: keysUrl, token: bound }, /for GET, not POST/],
      ['another path', { htm: 'POST', htu: `${keysUrl}/key_x`, token: bound }, /htu must be/],
      ['another host', { htm: 'POST', htu: keysUrl.replace('127.0.0.1', 'localhost'), token: bound }, /htu must be/],
      ['no ath', { htm: 'POST', htu: keysUrl }, /ath does not match/],
      ['another token of the same key', { htm: 'POST', htu: keysUrl, token: other }, /ath does not match/],
      ['ten minutes old', { htm: 'POST', htu: keysUrl, token: bound, iat: now - 600 }, /older than/],
      ['from the future', { htm: 'POST', htu: keysUrl, token: bound, iat: now + 600 }, /future/],
      ['no jti', { htm: 'POST', htu: keysUrl, token: bound, jti: undefined }, /jti/],
    ];
    for (const [label, claims, reason] of cases) {
      const res = await raw({ authorization: `DPoP ${bound}`, dpop: await proof(keys, claims) });
      assert.equal(res.status, 401, label);
      assert.match(((await res.json()) as { detail: string }).detail, reason, label);
    }
    // The query string is not part of htu.
    const withQuery = await raw(
      { authorization: `DPoP ${bound}`, dpop: await proof(keys, { htm: 'GET', htu: keysUrl, token: bound }) },
      'GET',
      `${keysUrl}?limit=5`,
    );
    assert.equal(withQuery.status, 200);
    // A forged Host header does not move htu off the issuer: the proof is checked against ISSUER.
    const hosted = await raw(
      { authorization: `DPoP ${bound}`, dpop: await proof(keys, { htm: 'GET', htu: keysUrl, token: bound }), 'x-forwarded-host': 'evil.example.test' },
      'GET',
    );
    assert.equal(hosted.status, 200);
    assert.equal(await keyCount(), before);
  });

  it('a proof works once: replayed in sequence, twenty at once, and on two nodes at once, exactly one request gets through', async () => {
    const once = await proof(keys, { htm: 'POST', htu: keysUrl, token: bound });
    assert.equal((await raw({ authorization: `DPoP ${bound}`, dpop: once })).status, 201);
    const again = await raw({ authorization: `DPoP ${bound}`, dpop: once });
    assert.equal(again.status, 401);
    assert.match(((await again.json()) as { detail: string }).detail, /already used/);

    const before = await keyCount();
    const racing = await proof(keys, { htm: 'POST', htu: keysUrl, token: bound });
    const statuses = (await Promise.all(Array.from({ length: 20 }, () => raw({ authorization: `DPoP ${bound}`, dpop: racing })))).map((r) => r.status);
    assert.deepEqual(
      statuses.filter((s) => s !== 401),
      [201],
      statuses.join(','),
    );
    assert.equal(await keyCount(), before + 1);

    const b = await startSecondNode(server);
    try {
      const shared = await proof(keys, { htm: 'POST', htu: keysUrl, token: bound });
      const both = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          fetch(`${i % 2 ? b.url : server.url}/api/v1/me/api-keys`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `DPoP ${bound}`, dpop: shared },
            body: JSON.stringify({ name: 'two-nodes', scope: 'invoices.read', resource: BILLING }),
          }),
        ),
      );
      const ok = both.filter((r) => r.status === 201);
      assert.equal(ok.length, 1, both.map((r) => r.status).join(','));
      assert.equal(await keyCount(), before + 2);
    } finally {
      await b.stop();
    }
  });

  it('an unbound token is refused with the DPoP scheme; the challenge without a token offers both schemes', async () => {
    const plain = (await codeFlow(app, new Browser(server.url), person, { resource: api(), scope: 'openid api-keys' })).tokens.access_token;
    const res = await raw({ authorization: `DPoP ${plain}`, dpop: await proof(keys, { htm: 'GET', htu: keysUrl, token: plain }) }, 'GET');
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { detail: string }).detail, /not bound to a DPoP key/);
    assert.equal((await raw({ authorization: `Bearer ${plain}` }, 'GET')).status, 200);
    const none = await raw({}, 'GET');
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="latchkey", DPoP realm="latchkey", algs="ES256 EdDSA Ed25519"');
  });

  it('the admin API: a bound admin token needs its proof; a read-only one passes the read check with a single proof', async () => {
    const signer = await bootstrapAdmin(server, 'dpop-admin');
    const adminConfig = await oidc.discovery(
      new URL(server.issuer),
      signer.clientId,
      undefined,
      oidc.PrivateKeyJwt({ key: (await importJWK(signer.key, 'ES256')) as CryptoKey, kid: signer.key.kid }),
      { execute: [oidc.allowInsecureRequests] },
    );
    const adminKeys = await newKeyPair();
    const handle = oidc.getDPoPHandle(adminConfig, adminKeys);
    const clientsUrl = `${server.issuer}/admin/api/v1/clients`;
    for (const scope of ['latchkey:admin', 'latchkey:admin:read']) {
      const tokens = await oidc.clientCredentialsGrant(adminConfig, { resource: adminApiResource(server.issuer), scope }, { DPoP: handle });
      assert.equal(tokens.token_type.toLowerCase(), 'dpop', scope);
      const token = tokens.access_token;
      const stolen = await fetch(clientsUrl, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(stolen.status, 401, scope);
      assert.match(stolen.headers.get('www-authenticate')!, /^DPoP realm="latchkey-admin", error="invalid_token"/);
      const other = await newKeyPair();
      const wrongKey = await fetch(clientsUrl, {
        headers: { authorization: `DPoP ${token}`, dpop: await proof(other, { htm: 'GET', htu: clientsUrl, token }) },
      });
      assert.equal(wrongKey.status, 401, scope);
      const honest = await oidc.fetchProtectedResource(adminConfig, token, new URL(clientsUrl), 'GET', undefined, undefined, { DPoP: handle });
      assert.equal(honest.status, 200, `${scope}: ${await honest.clone().text()}`);
      const jti = randomUUID();
      const replay = await fetch(clientsUrl, {
        headers: { authorization: `DPoP ${token}`, dpop: await proof(adminKeys, { htm: 'GET', htu: clientsUrl, token, jti }) },
      });
      const replayed = await fetch(clientsUrl, {
        headers: { authorization: `DPoP ${token}`, dpop: await proof(adminKeys, { htm: 'GET', htu: clientsUrl, token, jti }) },
      });
      assert.deepEqual([replay.status, replayed.status], [200, 401], scope);
    }
  });
});

describe("a person's token stops working when its app is deleted or disabled", () => {
  let server: TestServer;
  const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: BILLING, scope: 'invoices.read' });
  });
  after(() => server.stop());

  const create = (token: string, node = server) =>
    fetch(`${node.url}/api/v1/me/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'after-delete', scope: 'invoices.read', resource: BILLING }),
    });

  async function personToken(app: TestClient, person: TestPerson) {
    return (await codeFlow(app, new Browser(server.url), person, { resource: `${server.issuer}/api`, scope: 'openid api-keys' })).tokens.access_token;
  }

  it('client delete (the CLI, another process): the unexpired token is refused on every node, and nothing is created', async () => {
    const app = await registerClient(server, { apiScope: 'api-keys' });
    const person = await createUser(server);
    const token = await personToken(app, person);
    const b = await startSecondNode(server);
    try {
      assert.equal((await create(token)).status, 201);
      assert.equal((await create(token, b)).status, 201, 'node B has the client in its cache');
      const deleted = await admin('client', 'delete', app.clientId, '--json');
      assert.equal(deleted.code, 0, deleted.stderr);
      // Another process changed it: each node sees it within CHECK_EVERY_MS of its last check.
      await new Promise((r) => setTimeout(r, CHECK_EVERY_MS + 50));
      for (const node of [server, b]) {
        const res = await create(token, node);
        assert.equal(res.status, 401, node.url);
        assert.match(((await res.json()) as { detail: string }).detail, /app this token was issued to is disabled or deleted/);
        assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
      }
      assert.equal((await server.runtime.apiKeys.list({ owner: { userId: person.id } })).length, 2);
    } finally {
      await b.stop();
    }
  });

  it('deleted through the admin API (on this node): refused at once, no waiting', async () => {
    const app = await registerClient(server, { apiScope: 'api-keys' });
    const person = await createUser(server);
    const token = await personToken(app, person);
    assert.equal((await create(token)).status, 201);
    await server.runtime.admin.clients.delete({ kind: 'cli', osUser: 'test' }, app.clientId);
    assert.equal((await create(token)).status, 401);
  });
});
