// The adapter contract, run against oidc-provider's own memory adapter (the
// reference behaviour) and against our Prisma adapter on a real database.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import providerStore from 'oidc-provider/lib/helpers/als.js';
// @ts-expect-error: the library ships no types for its internal memory adapter
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import { loadConfig } from '../../src/config/env.ts';
import { withHeldWrites } from '../../src/db/held-writes.ts';
import { AlreadyConsumed, createAdapterClass, storedId } from '../../src/oidc/adapter.ts';
import { markAssertionAuthenticated } from '../../src/oidc/grants/assertion-auth.ts';
import { ServedRequest } from '../../src/oidc/provider-request.ts';
import { sweep } from '../../src/services/ops/sweeper.ts';
import { openRuntime, type Runtime } from '../../src/runtime.ts';
import { createTestDatabase, testEnv } from '../helpers/server.ts';

type Factory = (model: string) => Adapter;

const id = () => randomBytes(12).toString('base64url');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function contract(name: string, setup: () => Promise<{ make: Factory; teardown: () => Promise<void> }>) {
  describe(`adapter contract: ${name}`, () => {
    let make: Factory;
    let teardown: () => Promise<void>;
    before(async () => ({ make, teardown } = await setup()));
    after(() => teardown());

    it('upsert then find returns the payload; an unknown id returns undefined', async () => {
      const a = make('AccessToken');
      const key = id();
      const payload = { jti: key, kind: 'AccessToken', accountId: 'u1', grantId: 'g1', scope: 'openid' } as AdapterPayload;
      await a.upsert(key, payload, 60);
      assert.deepEqual(await a.find(key), payload);
      assert.equal(await a.find(id()), undefined);
    });

    it('upsert overwrites an existing id', async () => {
      const a = make('Session');
      const key = id();
      await a.upsert(key, { uid: 'one', accountId: 'a' } as AdapterPayload, 60);
      await a.upsert(key, { uid: 'one', accountId: 'b' } as AdapterPayload, 60);
      assert.equal((await a.find(key))?.accountId, 'b');
    });

    it('the token kinds looked up at once (as introspection does) each find their own, and a later lookup reads again', async () => {
      const [at, cc, rt] = [make('AccessToken'), make('ClientCredentials'), make('RefreshToken')];
      const key = id();
      await rt.upsert(key, { jti: key, kind: 'RefreshToken' } as AdapterPayload, 60);
      const [a, c, r] = await Promise.all([at.find(key), cc.find(key), rt.find(key)]);
      assert.deepEqual([a, c, r?.kind], [undefined, undefined, 'RefreshToken']);
      await at.upsert(key, { jti: key, kind: 'AccessToken' } as AdapterPayload, 60);
      const [a2, r2] = await Promise.all([at.find(key), rt.find(key)]);
      assert.deepEqual([a2?.kind, r2?.kind], ['AccessToken', 'RefreshToken']);
      await rt.destroy(key);
      assert.deepEqual(await Promise.all([at.find(key), rt.find(key)]).then((xs) => xs.map((x) => x?.kind)), ['AccessToken', undefined]);
    });

    it('models are separate namespaces', async () => {
      const key = id();
      await make('AccessToken').upsert(key, { jti: key, kind: 'AccessToken' } as AdapterPayload, 60);
      assert.equal(await make('RefreshToken').find(key), undefined);
    });

    it('findByUid finds a session by its uid', async () => {
      const a = make('Session');
      const key = id();
      const uid = id();
      await a.upsert(key, { uid, accountId: 'acc' } as AdapterPayload, 60);
      assert.equal((await a.findByUid(uid))?.accountId, 'acc');
      assert.equal(await a.findByUid(id()), undefined);
    });

    it('findByUserCode finds a device code by its user code', async () => {
      const a = make('DeviceCode');
      const key = id();
      await a.upsert(key, { userCode: 'ABCD-EFGH', grantId: 'g' } as AdapterPayload, 60);
      assert.equal((await a.findByUserCode('ABCD-EFGH'))?.grantId, 'g');
      assert.equal(await a.findByUserCode('ZZZZ-ZZZZ'), undefined);
    });

    it('consume marks the artifact consumed with a timestamp', async () => {
      const a = make('AuthorizationCode');
      const key = id();
      await a.upsert(key, { jti: key, grantId: 'g' } as AdapterPayload, 60);
      assert.equal((await a.find(key))?.consumed, undefined);
      const before = Math.floor(Date.now() / 1000);
      await a.consume(key);
      const consumed = (await a.find(key))?.consumed as number;
      assert.ok(typeof consumed === 'number' && consumed >= before - 1 && consumed <= before + 2, String(consumed));
    });

    it('destroy removes the artifact', async () => {
      const a = make('Interaction');
      const key = id();
      await a.upsert(key, { uid: key } as AdapterPayload, 60);
      await a.destroy(key);
      assert.equal(await a.find(key), undefined);
    });

    it('revokeByGrantId removes every artifact of that grant and no other', async () => {
      const grantId = id();
      const at = make('AccessToken');
      const rt = make('RefreshToken');
      const [a1, a2, r1, other] = [id(), id(), id(), id()];
      await at.upsert(a1, { grantId } as AdapterPayload, 60);
      await at.upsert(a2, { grantId } as AdapterPayload, 60);
      await rt.upsert(r1, { grantId } as AdapterPayload, 60);
      await at.upsert(other, { grantId: id() } as AdapterPayload, 60);
      await at.revokeByGrantId(grantId);
      await rt.revokeByGrantId(grantId);
      assert.equal(await at.find(a1), undefined);
      assert.equal(await at.find(a2), undefined);
      assert.equal(await rt.find(r1), undefined);
      assert.ok(await at.find(other));
    });

    it('an expired artifact is not returned', async () => {
      const a = make('AccessToken');
      const key = id();
      await a.upsert(key, { jti: key } as AdapterPayload, 1);
      assert.ok(await a.find(key));
      await sleep(1100 + 1000); // the memory adapter adds the provider's clock tolerance
      assert.equal(await a.find(key), undefined);
    });
  });
}

contract('oidc-provider memory adapter (reference)', async () => ({
  make: (model) => new MemoryAdapter(model) as Adapter,
  teardown: async () => {},
}));

async function prismaSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-adapter-'));
  const database = await createTestDatabase(dir);
  const runtime = await openRuntime(loadConfig(testEnv(dir, 3999, { DATABASE_URL: database.url })));
  const PrismaAdapter = createAdapterClass({
    artifacts: runtime.artifacts,
    clients: runtime.clients,
    issuer: 'http://127.0.0.1:3999',
    idKey: runtime.artifactIdKey,
  });
  return {
    runtime,
    make: (model: string) => new PrismaAdapter(model) as Adapter,
    teardown: async () => {
      await runtime.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('Prisma adapter', () => {
  let make: Factory;
  let teardown: () => Promise<void>;
  let runtime: Runtime;
  before(async () => ({ make, teardown, runtime } = await prismaSetup()));
  after(() => teardown());

  it('consume is atomic: of concurrent consumers exactly one wins, the others get invalid_grant', async () => {
    const a = make('RefreshToken');
    const key = id();
    await a.upsert(key, { jti: key, grantId: 'g' } as AdapterPayload, 60);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => a.consume(key)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      const err = (r as PromiseRejectedResult).reason;
      assert.ok(err instanceof AlreadyConsumed);
      assert.equal(err.error, 'invalid_grant');
    }
  });

  it('consuming an unknown artifact is refused', async () => {
    await assert.rejects(make('AuthorizationCode').consume(id()), AlreadyConsumed);
  });

  it("in a request, a refresh token consumed meanwhile refuses the new tokens' write with the provider's invalid_grant, and stores neither", async () => {
    // The server's adapter: in a request the consumption waits for the tokens' write (src/db/held-writes.ts).
    const request = {};
    const Held = createAdapterClass({
      artifacts: withHeldWrites(runtime.artifacts, () => request).artifacts,
      clients: runtime.clients,
      issuer: 'http://127.0.0.1:3999',
      idKey: runtime.artifactIdKey,
    });
    const [presented, rotated, access] = [id(), id(), id()];
    await make('RefreshToken').upsert(presented, { jti: presented, grantId: 'g' } as AdapterPayload, 60);
    await new Held('RefreshToken').consume(presented);
    // Another request (or node) consumes it before this one's write is made.
    await make('RefreshToken').consume(presented);
    await new Held('RefreshToken').upsert(rotated, { jti: rotated, grantId: 'g' } as AdapterPayload, 60);
    await assert.rejects(new Held('AccessToken').upsert(access, { jti: access, grantId: 'g' } as AdapterPayload, 60), (err: unknown) => {
      assert.ok(err instanceof AlreadyConsumed, `${String(err)} is the provider's own error`);
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
    assert.equal(await make('RefreshToken').find(rotated), undefined);
    assert.equal(await make('AccessToken').find(access), undefined);
  });

  it('upsert keeps the lookup columns the indexes serve', async () => {
    const key = id();
    await make('Session').upsert(key, { uid: 'u-x', grantId: 'g-x' } as AdapterPayload, 60);
    const row = await runtime.db.oidcPayload.findUnique({ where: { type_id: { type: 'Session', id: storedId(runtime.artifactIdKey, 'Session', key) } } });
    assert.equal(row?.uid, 'u-x');
    assert.equal(row?.grantId, 'g-x');
    assert.ok(row?.expiresAt && row.expiresAt.getTime() > Date.now());
  });

  it('a credential id (token, code, session) is stored only as a keyed hash, in the row id and the payload', async () => {
    for (const type of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Session', 'Interaction', 'ClientCredentials']) {
      const secret = id();
      await make(type).upsert(secret, { jti: secret, grantId: 'g-1', kind: type } as AdapterPayload, 60);
      const rows = await runtime.db.oidcPayload.findMany({ where: { type } });
      assert.ok(rows.length > 0);
      for (const row of rows) {
        assert.notEqual(row.id, secret, type);
        assert.ok(!row.payload.includes(secret), `${type} payload holds no id`);
      }
      assert.equal((await make(type).find(secret))?.jti, secret, `${type} is found by its id, with its jti`);
    }
  });

  it('an artifact without expiry never expires', async () => {
    const key = id();
    await make('Grant').upsert(key, { accountId: 'a' } as AdapterPayload);
    assert.ok(await make('Grant').find(key));
  });

  it('the sweep deletes expired rows and keeps live ones', async () => {
    const a = make('AccessToken');
    const live = id();
    const dead = id();
    await a.upsert(live, { jti: live } as AdapterPayload, 600);
    await a.upsert(dead, { jti: dead } as AdapterPayload, 1);
    const removed = await sweep(runtime.db, { auditRetentionDays: 90 }, new Date(Date.now() + 5_000));
    assert.ok(removed.artifacts >= 1);
    assert.equal(await runtime.db.oidcPayload.count({ where: { id: storedId(runtime.artifactIdKey, 'AccessToken', dead) } }), 0);
    assert.equal(await runtime.db.oidcPayload.count({ where: { id: storedId(runtime.artifactIdKey, 'AccessToken', live) } }), 1);
  });

  it('the Client model reads registered clients (with the secret digest) and refuses writes', async () => {
    const { client } = await runtime.clients.create({ name: 'Adapter App', redirectUris: ['https://x.example.test/cb'] });
    const found = await make('Client').find(client.clientId);
    assert.equal(found?.client_id, client.clientId);
    assert.equal(found?.client_name, 'Adapter App');
    assert.deepEqual(found?.redirect_uris, ['https://x.example.test/cb']);
    assert.match(String(found?.client_secret), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await make('Client').find('nope'), undefined);
    await assert.rejects(make('Client').upsert('x', {} as AdapterPayload, 1));
  });

  it("a client's view (an app, a registered client) is built once while its row is cached, read-only, and built again when the client changes", async () => {
    const { client } = await runtime.clients.create({ name: 'Cached App', redirectUris: ['https://c.example.test/cb'] });
    const first = await make('Client').find(client.clientId);
    assert.equal(await make('Client').find(client.clientId), first, 'the same view, not one rebuilt per request');
    assert.throws(() => Object.assign(first!, { client_name: 'Changed by the provider' }), TypeError);
    await runtime.clients.update(client.clientId, { redirectUris: ['https://c.example.test/other'] });
    const changed = await make('Client').find(client.clientId);
    assert.notEqual(changed, first);
    assert.deepEqual(changed?.redirect_uris, ['https://c.example.test/other']);
  });

  it("a service account's view is built for each request: it depends on how the request authenticated and on which keys are live", async () => {
    let t = Date.now();
    // The server's own wiring: the request is whatever the provider's store holds (src/oidc/provider-request.ts).
    const Clocked = createAdapterClass({
      artifacts: runtime.artifacts,
      clients: runtime.clients,
      issuer: 'http://127.0.0.1:3999',
      idKey: runtime.artifactIdKey,
      now: () => t,
    });
    const find = (clientId: string) => new Clocked('Client').find(clientId);
    const { account } = await runtime.serviceAccounts.create({ name: 'Clocked', scope: 'cmdb.read', generateKey: 'ES256', keyExpiresAt: new Date(t + 60_000) });
    const first = await find(account.clientId);
    assert.equal(first?.token_endpoint_auth_method, 'private_key_jwt');
    assert.equal((first?.jwks as { keys: unknown[] } | undefined)?.keys.length, 1);
    assert.notEqual(await find(account.clientId), first, 'not a view kept from an earlier request');
    const asserting = new ServedRequest('192.0.2.1', undefined);
    const other = new ServedRequest('192.0.2.2', undefined);
    markAssertionAuthenticated(asserting, account.clientId);
    // Two requests at once, each awaiting inside the other's turns.
    const [asserted, theOther] = await Promise.all([
      providerStore.run(asserting, () => find(account.clientId)),
      providerStore.run(other, () => find(account.clientId)),
    ]);
    assert.equal(asserted?.token_endpoint_auth_method, 'none', 'the request its assertion authenticated sees the assertion-only view');
    assert.equal(theOther?.token_endpoint_auth_method, 'private_key_jwt', 'and no other request does');
    assert.equal((await find(account.clientId))?.token_endpoint_auth_method, 'private_key_jwt', 'nor anything outside a request');
    t += 61_000;
    assert.deepEqual((await find(account.clientId))?.jwks, { keys: [] }, 'a key past its expiry is gone, with no change to the account');
  });
});

contract('Prisma adapter', prismaSetup);
