// Introspection of the provider's opaque tokens by a client that HTTP Basic
// alone authenticates is answered without the provider's endpoint pipeline
// (src/oidc/opaque-token-introspection.ts). What must hold: for a token in
// any state, asked by any caller with any hint, the answer is the provider's
// own — asked as an attacker would (another client's token, a resource
// server of another API, a token whose grant was withdrawn or whose expiry
// passed, a guessed token), and all at once.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { opaqueTokenAnswer } from '../../src/oidc/opaque-token-introspection.ts';
import { Browser } from '../helpers/browser.ts';
import { basic, resourceServerClient, statementsWhileClockStands } from '../helpers/api-keys.ts';
import { codeFlow, createUser, discover, oidc, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API_A = 'https://orders.example.test';
const API_B = 'https://hr.example.test';

type Creds = Awaited<ReturnType<typeof resourceServerClient>>;

describe("opaque-token introspection answers what the provider's endpoint answers", () => {
  let server: TestServer;
  let app: TestClient;
  let appA: TestClient; // a person's app at API A
  let x: Creds; // client credentials at API A
  let y: Creds; // client credentials at API B
  let rsA: Creds; // the resource server of API A
  let rsB: Creds; // the resource server of API B
  const tokens: Record<string, string> = {};

  async function post(path: string, who: Creds, form: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await fetch(`${server.issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(who.id, who.secret), ...headers },
      body: new URLSearchParams(form),
    });
    const text = await res.text();
    return {
      status: res.status,
      cache: res.headers.get('cache-control'),
      cors: res.headers.get('access-control-allow-origin'),
      text,
      body: JSON.parse(text) as Record<string, unknown>,
    };
  }
  const tokenFor = async (who: Creds, resource: string) => {
    const r = await post('/token', who, { grant_type: 'client_credentials', resource });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return String(r.body.access_token);
  };
  /** A stored token's row, by the client it was issued to and its kind. */
  const rowsOf = (clientId: string, type: string) => server.runtime.db.oidcPayload.findMany({ where: { clientId, type } });

  before(async () => {
    // No reuse grace: a rotated refresh token is consumed at once (test/oidc/refresh-reuse-grace.test.ts has the grace).
    // The token counts' audit flush and the key refresh, which write on their own timers, kept out of the
    // statement count below (their statements landing in it made that test fail now and then under load).
    server = await startTestServer({ REFRESH_REUSE_GRACE: '0', AUDIT_FLUSH_INTERVAL: '3600', KEY_REFRESH_INTERVAL: '3600' });
    await server.runtime.resources.create({ identifier: API_A, scope: 'orders.read', format: 'opaque', claims: 'email email_verified roles' });
    await server.runtime.resources.create({ identifier: API_B, scope: 'hr.read', format: 'opaque' });
    const machine = async (apiScope: string): Promise<Creds> => {
      const { client, clientSecret } = await server.runtime.clients.create({ name: apiScope, redirectUris: [], clientCredentials: true, apiScope });
      return { id: client.clientId, secret: clientSecret! };
    };
    [x, y, rsA, rsB] = await Promise.all([
      machine('orders.read'),
      machine('hr.read'),
      resourceServerClient(server, [API_A]),
      resourceServerClient(server, [API_B]),
    ]);
    app = await registerClient(server);
    appA = await registerClient(server, { name: 'orders app', apiScope: 'orders.read', defaultResource: API_A });
    const person = await createUser(server);
    await server.runtime.users.addRole(person.id, 'auditor');

    tokens.machine = await tokenFor(x, API_A);
    // A person's token at API A, with the claims the API asked for: its resource server's main case.
    tokens.personAtA = (await codeFlow(appA, new Browser(server.url), person, { scope: 'openid orders.read' })).tokens.access_token;
    const flow = await codeFlow(app, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' });
    tokens.personAccess = flow.tokens.access_token;
    tokens.personRefresh = flow.tokens.refresh_token!;
    // A rotated refresh token: consumed, its successor live.
    const next = await oidc.refreshTokenGrant(app.config, tokens.personRefresh);
    tokens.rotatedRefresh = next.refresh_token!;
    tokens.rotatedAccess = next.access_token;

    // A token whose grant was withdrawn behind the provider's back (its row gone, the token's kept).
    const grantsBefore = new Set((await rowsOf(app.clientId, 'Grant')).map((r) => r.id));
    const orphan = await codeFlow(app, new Browser(server.url), person, { scope: 'openid', prompt: 'consent' });
    tokens.grantGone = orphan.tokens.access_token;
    const orphanGrant = (await rowsOf(app.clientId, 'Grant')).map((r) => r.id).find((g) => !grantsBefore.has(g));
    assert.ok(orphanGrant, 'the second sign-in has a grant of its own');
    await server.runtime.db.oidcPayload.delete({ where: { type_id: { type: 'Grant', id: orphanGrant } } });

    // A token past its expiry whose row is still there (the provider's check, not the adapter's).
    const z = await machine('orders.read');
    tokens.expired = await tokenFor(z, API_A);
    const [zRow] = await rowsOf(z.id, 'ClientCredentials');
    const past = { ...(JSON.parse(zRow!.payload) as Record<string, unknown>), exp: Math.floor(Date.now() / 1000) - 60 };
    await server.runtime.db.oidcPayload.update({ where: { type_id: { type: zRow!.type, id: zRow!.id } }, data: { payload: JSON.stringify(past) } });

    tokens.guessed = randomBytes(32).toString('base64url');
  });
  after(() => server.stop());

  it('every token, every caller, every hint: the same answer both ways, and this path answers each', async () => {
    const callers: Record<string, Creds> = {
      x,
      y,
      rsA,
      rsB,
      app: { id: app.clientId, secret: app.clientSecret! },
      appA: { id: appA.clientId, secret: appA.clientSecret! },
    };
    const hints = [undefined, 'access_token', 'refresh_token', 'urn:ietf:params:oauth:token-type:refresh_token', 'something_else'];
    const asks = Object.entries(tokens).flatMap(([tokenName, token]) =>
      Object.entries(callers).flatMap(([callerName, who]) => hints.map((hint) => ({ tokenName, token, callerName, who, hint }))),
    );
    const answers = await Promise.all(
      asks.map(async ({ token, who, hint }) => {
        const form = { token, ...(hint ? { token_type_hint: hint } : {}) };
        // client_id repeated in the form (the provider accepts it) sends the request through the provider.
        const [fast, full] = await Promise.all([post('/token/introspection', who, form), post('/token/introspection', who, { ...form, client_id: who.id })]);
        const client = await server.live.current.Client.find(who.id);
        const direct = await opaqueTokenAnswer(server.live.current, client!, token);
        return { fast, full, direct };
      }),
    );
    const active = new Set<string>();
    asks.forEach(({ tokenName, callerName, hint }, i) => {
      const { fast, full, direct } = answers[i]!;
      const what = `${tokenName} asked by ${callerName} (hint ${hint})`;
      assert.equal(fast.status, 200, what);
      assert.equal(full.status, 200, what);
      assert.deepEqual(fast.body, full.body, what);
      assert.equal(fast.text, full.text, `${what}: the same bytes, keys in the same order`);
      assert.equal(fast.cache, 'no-store', what);
      // Which path answered: the provider's answers carry its CORS headers.
      assert.equal(fast.cors, null, `${what}: answered without the provider`);
      assert.equal(full.cors, '*', `${what}: answered by the provider`);
      assert.notEqual(direct, undefined, `${what}: answered without the provider`);
      if (fast.body.active === true) active.add(`${tokenName} by ${callerName}`);
    });
    // What the policy lets each caller see (test/oidc/introspection-policy.test.ts), and nothing else.
    assert.deepEqual([...active].sort(), [
      'machine by rsA',
      'machine by x',
      'personAccess by app',
      'personAtA by appA',
      'personAtA by rsA',
      'rotatedAccess by app',
      'rotatedRefresh by app',
    ]);
  });
  it('a token is read with one statement, not one per kind of token, on either path', async () => {
    const form = { token: tokens.machine! };
    const { spent, polls } = await statementsWhileClockStands(
      server,
      async () => void (await post('/token/introspection', x, form)), // the caller's client is cached from here on
      async () => {
        for (let i = 0; i < 10; i++) {
          assert.equal((await post('/token/introspection', x, form)).body.active, true);
          assert.equal((await post('/token/introspection', x, { ...form, client_id: x.id })).body.active, true);
        }
      },
    );
    // Besides the 20 reads, only the back-channel logout's look for notices owed.
    assert.ok(spent >= 20 && spent <= 20 + polls, `${spent} statements for 20 introspections (back-channel polls allowed: ${polls})`);
  });

  it('a sender-constrained (DPoP) token is left to the provider, which answers with its cnf', async () => {
    const config = await discover(server, x.id, x.secret);
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const bound = (await oidc.clientCredentialsGrant(config, { resource: API_A }, { DPoP: dpop })).access_token;
    const client = await server.live.current.Client.find(x.id);
    assert.equal(await opaqueTokenAnswer(server.live.current, client!, bound), undefined);
    const [fast, full] = await Promise.all([
      post('/token/introspection', x, { token: bound }),
      post('/token/introspection', x, { token: bound, client_id: x.id }),
    ]);
    assert.equal(fast.body.token_type, 'DPoP');
    assert.equal(typeof (fast.body.cnf as { jkt?: unknown } | undefined)?.jkt, 'string');
    assert.deepEqual(fast.body, full.body);
    // To a caller that may not see it, a live bound token looks like a guessed one, headers included.
    const [refused, guessed] = await Promise.all([
      post('/token/introspection', y, { token: bound }),
      post('/token/introspection', y, { token: randomBytes(32).toString('base64url') }),
    ]);
    assert.deepEqual([refused.body, refused.cors], [{ active: false }, null]);
    assert.deepEqual([guessed.body, guessed.cors], [{ active: false }, null]);
  });

  it("restates the library's introspection as this version has it: an upgrade that changes it is read again", () => {
    // src/oidc/opaque-token-introspection.ts follows these two files; when this fails, compare it
    // with the new versions (checks added, fields answered, the order of lookups) and update the digests.
    const lib = dirname(createRequire(import.meta.url).resolve('oidc-provider'));
    const digest = (file: string) =>
      createHash('sha256')
        .update(readFileSync(join(lib, file)))
        .digest('hex');
    assert.deepEqual(
      { introspection: digest('actions/introspection.js'), findToken: digest('helpers/token_find.js') },
      {
        introspection: '9c51064bc58f06a872c703aaf398778e51df288a7d1e5bd2bd587b677bc06575',
        findToken: 'f0a6c65226cff377650bb6034661de2091231638a40c59b1fde2c21898056b82',
      },
    );
  });
});
