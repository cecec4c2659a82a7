// A request's token writes go to the database as one statement where there
// are two, and every token answered is stored before the answer leaves
// (src/db/held-writes.ts, src/middleware/koa-settle-writes.ts).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer } from 'node:http';
import type Koa from 'koa';
import { listenerApp } from '../../src/app.ts';
import { openStorage, type Storage } from '../../src/db/database.ts';
import { ConsumedMeanwhile, withHeldWrites } from '../../src/db/held-writes.ts';
import { createLogger } from '../../src/logger.ts';
import { createRenderer } from '../../src/middleware/koa-render.ts';
import { statementsWhileClockStands } from '../helpers/api-keys.ts';
import { artifactColumns, serverWithStorage } from '../helpers/storage.ts';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, oidc, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import type { TestServer } from '../helpers/server.ts';

const columns = (payload: string) => artifactColumns({ payload });

describe("a request's token writes: paired, and made before its answer leaves", () => {
  let server: TestServer;
  let client: TestClient;
  let person: TestPerson;
  let storage: Storage;
  let close: () => Promise<void>;
  before(async () => {
    ({ server, client, person, storage, close } = await serverWithStorage());
  });
  after(() => close());

  /** `run` with the server's stores on a connection of the test's own, the kind of each statement it runs ('query', 'execute') recorded in `writes`. */
  async function withCountedStore(run: (store: Storage['artifacts'], writes: string[]) => Promise<void>) {
    const writes: string[] = [];
    const observed = await openStorage(server.env.DATABASE_URL!, { observe: (operation) => void writes.push(operation) });
    try {
      await run(observed.artifacts, writes);
    } finally {
      await observed.close();
    }
  }

  it('a refresh writes its consumption and its two new tokens as one statement', async () => {
    let { tokens } = await codeFlow(client, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' });
    const { spent, polls } = await statementsWhileClockStands(
      server,
      async () => {
        tokens = await oidc.refreshTokenGrant(client.config, tokens.refresh_token!);
      },
      async () => {
        for (let i = 0; i < 5; i++) tokens = await oidc.refreshTokenGrant(client.config, tokens.refresh_token!);
      },
      'execute',
    );
    // The back-channel logout's polls are reads: no allowance for writes.
    assert.equal(spent, 5, `${spent} writes for 5 refreshes (expected 5; polls while counting: up to ${polls}, all reads)`);
    // Both tokens it answered with are stored.
    assert.equal((await oidc.fetchUserInfo(client.config, tokens.access_token, person.id)).sub, person.id);
    assert.ok((await oidc.refreshTokenGrant(client.config, tokens.refresh_token!)).access_token);
  });

  it('a token written alone is stored before the answer leaves', async () => {
    // A code exchange without offline_access stores one token: nothing in the request comes after it.
    const { tokens } = await codeFlow(client, new Browser(server.url), person, { scope: 'openid' });
    assert.equal(tokens.refresh_token, undefined);
    const introspected = await oidc.tokenIntrospection(client.config, tokens.access_token);
    assert.equal(introspected.active, true, 'the access token answered is stored');
    assert.equal((await oidc.fetchUserInfo(client.config, tokens.access_token, person.id)).sub, person.id);
  });

  it('within a request a held write is made before any other call, and never seen outside it first', async () => {
    let current: object | undefined = {};
    await withCountedStore(async (store, writes) => {
      const { artifacts } = withHeldWrites(store, () => current);
      const id = `held-${Date.now()}`;
      await artifacts.upsert('AccessToken', `${id}-a`, columns('{"n":1}'));
      assert.equal(await storage.artifacts.find('AccessToken', `${id}-a`), undefined, 'held: not yet stored');
      assert.equal((await artifacts.find('AccessToken', `${id}-a`))?.payload, '{"n":1}', 'the request reads its own write');
      writes.length = 0;
      await artifacts.upsert('RefreshToken', `${id}-r`, columns('{"n":2}'));
      await artifacts.upsert('AccessToken', `${id}-b`, columns('{"n":3}'));
      assert.deepEqual(writes, ['execute'], 'two token writes, one statement');
      assert.equal((await storage.artifacts.find('RefreshToken', `${id}-r`))?.payload, '{"n":2}');
      assert.equal((await storage.artifacts.find('AccessToken', `${id}-b`))?.payload, '{"n":3}');
      // Outside a request nothing is held.
      current = undefined;
      await artifacts.upsert('AccessToken', `${id}-c`, columns('{"n":4}'));
      assert.equal((await storage.artifacts.find('AccessToken', `${id}-c`))?.payload, '{"n":4}');
    });
  });

  it('calls made side by side wait for the held write, and writes of one row stay in order', async () => {
    const request = {};
    await withCountedStore(async (store, writes) => {
      const { artifacts } = withHeldWrites(store, () => request);
      const id = `side-${Date.now()}`;
      await artifacts.upsert('AccessToken', `${id}-a`, columns('{"n":1}'));
      // As the provider's revocation does: several calls at once, right after a held write.
      const [first, , second] = await Promise.all([
        artifacts.find('AccessToken', `${id}-a`),
        artifacts.revokeByGrantId('RefreshToken', id),
        artifacts.find('AccessToken', `${id}-a`),
      ]);
      assert.equal(first?.payload, '{"n":1}', 'the read that makes the held write sees it');
      assert.equal(second?.payload, '{"n":1}', 'a read made beside it sees it too');
      // Held, then destroyed: destroyed.
      await artifacts.upsert('AccessToken', `${id}-b`, columns('{"n":2}'));
      await artifacts.destroy('AccessToken', `${id}-b`);
      assert.equal(await storage.artifacts.find('AccessToken', `${id}-b`), undefined);
      // The same row held twice: one write, its last value.
      writes.length = 0;
      await artifacts.upsert('RefreshToken', `${id}-c`, columns('{"n":3}'));
      await artifacts.upsert('RefreshToken', `${id}-c`, columns('{"n":4}'));
      assert.deepEqual(writes, [], 'nothing written yet');
      assert.equal((await artifacts.find('RefreshToken', `${id}-c`))?.payload, '{"n":4}');
      assert.deepEqual(writes, ['execute', 'query']);
      await assert.rejects(
        store.upsertTwo({ type: 'AccessToken', id: `${id}-d`, columns: columns('{}') }, { type: 'AccessToken', id: `${id}-d`, columns: columns('{}') }),
        /two different rows/,
      );
    });
  });

  /** A refresh token stored for the test (outside any request), and the two rows a refresh would write for it. */
  async function storedRefreshToken(name: string) {
    const id = `${name}-${Date.now()}`;
    await storage.artifacts.upsert('RefreshToken', id, columns('{"old":true}'));
    const rows = (n: number) =>
      [
        { type: 'RefreshToken', id: `${id}-rt${n}`, columns: columns(`{"rt":${n}}`) },
        { type: 'AccessToken', id: `${id}-at${n}`, columns: columns(`{"at":${n}}`) },
      ] as const;
    return { id, rows };
  }

  it("of two requests that consume one refresh token, the second's token write fails with invalid_grant and writes nothing", async () => {
    const a = {};
    const b = {};
    let current: object = a;
    await withCountedStore(async (store, writes) => {
      const { artifacts } = withHeldWrites(store, () => current);
      const { id, rows } = await storedRefreshToken('race');
      // Both are told they consumed it: neither consumption is made yet.
      for (const s of [a, b]) {
        current = s;
        assert.equal(await artifacts.consume('RefreshToken', id, new Date()), true);
      }
      assert.equal((await storage.artifacts.find('RefreshToken', id))?.consumedAt, null, 'held: not consumed yet');
      writes.length = 0;
      current = b;
      await artifacts.upsert(rows(2)[0].type, rows(2)[0].id, rows(2)[0].columns);
      await artifacts.upsert(rows(2)[1].type, rows(2)[1].id, rows(2)[1].columns);
      assert.deepEqual(writes, ['execute'], 'the consumption and both tokens: one statement');
      current = a;
      await artifacts.upsert(rows(1)[0].type, rows(1)[0].id, rows(1)[0].columns);
      await assert.rejects(artifacts.upsert(rows(1)[1].type, rows(1)[1].id, rows(1)[1].columns), (err: ConsumedMeanwhile) => {
        assert.ok(err instanceof ConsumedMeanwhile);
        assert.equal(err.code, 'invalid_grant');
        return true;
      });
      for (const row of rows(1)) assert.equal(await storage.artifacts.find(row.type, row.id), undefined, `the loser's ${row.type} is not stored`);
      for (const row of rows(2)) assert.ok(await storage.artifacts.find(row.type, row.id), `the winner's ${row.type} is stored`);
      assert.ok((await storage.artifacts.find('RefreshToken', id))?.consumedAt, 'consumed');
    });
  });

  it('twenty requests consuming one refresh token side by side: exactly one writes its tokens', async () => {
    await withCountedStore(async (store) => {
      const requests = Array.from({ length: 20 }, () => ({}));
      let current: object | undefined;
      const { artifacts } = withHeldWrites(store, () => current);
      const { id, rows } = await storedRefreshToken('twenty');
      const outcomes = await Promise.allSettled(
        requests.map(async (s, n) => {
          // Each call runs in its request's scope, as AsyncLocalStorage would give it.
          const inScope = <T>(call: () => Promise<T>) => {
            current = s;
            const p = call();
            current = undefined;
            return p;
          };
          assert.equal(await inScope(() => artifacts.consume('RefreshToken', id, new Date())), true);
          const [rt, at] = rows(n);
          await inScope(() => artifacts.upsert(rt.type, rt.id, rt.columns));
          await inScope(() => artifacts.upsert(at.type, at.id, at.columns));
        }),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof ConsumedMeanwhile, String(o.reason));
      const stored = await Promise.all(requests.map((_, n) => storage.artifacts.find('AccessToken', rows(n)[1].id)));
      assert.equal(stored.filter(Boolean).length, 1, 'one access token stored');
    });
  });

  it('a held consumption that finds its row consumed is refused at whatever call makes it, and the write held after it is dropped', async () => {
    const request = {};
    await withCountedStore(async (store) => {
      const { artifacts, settle } = withHeldWrites(store, () => request);
      const { id, rows } = await storedRefreshToken('lost');
      assert.equal(await storage.artifacts.consume('RefreshToken', id, new Date()), true, 'another node consumed it');
      assert.equal(await artifacts.consume('RefreshToken', id, new Date()), true);
      const [rt] = rows(1);
      await artifacts.upsert(rt.type, rt.id, rt.columns);
      await assert.rejects(artifacts.find('Grant', 'any'), ConsumedMeanwhile);
      assert.equal(await storage.artifacts.find(rt.type, rt.id), undefined, 'the held token is not written');
      // Held alone until the end of the request: the settle refuses.
      const { id: other } = await storedRefreshToken('lost-alone');
      await storage.artifacts.consume('RefreshToken', other, new Date());
      assert.equal(await artifacts.consume('RefreshToken', other, new Date()), true);
      await assert.rejects(settle(), ConsumedMeanwhile);
    });
  });

  it('a consumption and one write still held at the end of the request are one statement (a refresh with a JWT access token)', async () => {
    const request = {};
    await withCountedStore(async (store, writes) => {
      const { artifacts, settle } = withHeldWrites(store, () => request);
      const { id, rows } = await storedRefreshToken('one-write');
      const [rt] = rows(1);
      assert.equal(await artifacts.consume('RefreshToken', id, new Date()), true);
      await artifacts.upsert(rt.type, rt.id, rt.columns);
      writes.length = 0;
      await settle();
      assert.deepEqual(writes, ['execute']);
      assert.ok((await storage.artifacts.find('RefreshToken', id))?.consumedAt, 'consumed');
      assert.equal((await storage.artifacts.find(rt.type, rt.id))?.payload, rt.columns.payload);
    });
  });

  it('within the refresh reuse grace, the held consumption counts a recent one as its own', async () => {
    const request = {};
    await withCountedStore(async (store) => {
      const { artifacts } = withHeldWrites(store, () => request);
      const { id, rows } = await storedRefreshToken('grace');
      const first = new Date(Date.now() - 5_000);
      await storage.artifacts.consume('RefreshToken', id, first);
      // A grace that began before the first consumption: tokens written, its time kept.
      assert.equal(await artifacts.consume('RefreshToken', id, new Date(), new Date(first.getTime() - 1_000)), true);
      for (const row of rows(1)) await artifacts.upsert(row.type, row.id, row.columns);
      for (const row of rows(1)) assert.ok(await storage.artifacts.find(row.type, row.id));
      assert.equal((await storage.artifacts.find('RefreshToken', id))?.consumedAt?.getTime(), first.getTime());
      // One that began after it: refused, nothing written.
      assert.equal(await artifacts.consume('RefreshToken', id, new Date(), new Date(first.getTime() + 1_000)), true);
      await artifacts.upsert(rows(2)[0].type, rows(2)[0].id, rows(2)[0].columns);
      await assert.rejects(artifacts.upsert(rows(2)[1].type, rows(2)[1].id, rows(2)[1].columns), ConsumedMeanwhile);
      for (const row of rows(2)) assert.equal(await storage.artifacts.find(row.type, row.id), undefined);
    });
  });

  /** The server's own listener stack (src/app.ts listenerApp) around a route that answers a token, with `settle` as its held write. */
  async function listenerWith(
    settle: () => Promise<void>,
    answer: (ctx: Koa.Context) => void = (ctx) => (ctx.body = { access_token: 'would-be-token', token_type: 'Bearer' }),
  ) {
    const deps = {
      runtime: { ...server.runtime, settleWrites: settle },
      render: createRenderer(server.runtime.ui),
      log: createLogger('silent'),
      cookieKeys: ['test-cookie-key'],
      metrics: server.metrics,
    };
    let handler: ReturnType<Koa['callback']> | undefined;
    const listener = createServer((req, res) => handler!(req, res));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const app = listenerApp(deps as Parameters<typeof listenerApp>[0], origin);
    app.use(answer);
    handler = app.callback();
    return { origin, close: () => new Promise((resolve) => listener.close(resolve)) };
  }

  it("the server's listeners answer only once the held write is made", async () => {
    let written = false;
    const { origin, close } = await listenerWith(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      written = true;
    });
    try {
      const res = await fetch(`${origin}/token`, { headers: { accept: 'application/json' } });
      assert.equal(written, true, 'the answer arrived before its write was made');
      assert.equal(((await res.json()) as { access_token: string }).access_token, 'would-be-token');
    } finally {
      await close();
    }
  });

  it('a held write that fails turns the answer into an error, with no token in it', async () => {
    const { origin, close } = await listenerWith(async () => {
      throw new Error('connection terminated');
    });
    try {
      const res = await fetch(`${origin}/token`, { headers: { accept: 'application/json' } });
      const text = await res.text();
      assert.equal(res.status, 500);
      assert.equal((JSON.parse(text) as { error: string }).error, 'server_error');
      assert.doesNotMatch(text, /would-be-token/);
    } finally {
      await close();
    }
  });

  it('a request that answers an error (as the provider answers its own) keeps it when its held write fails too', async () => {
    const { origin, close } = await listenerWith(
      async () => {
        throw new Error('RefreshToken already consumed');
      },
      (ctx) => {
        ctx.status = 400;
        ctx.body = { error: 'invalid_target', error_description: 'the resource is not allowed for this client' };
      },
    );
    try {
      const res = await fetch(`${origin}/token`);
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { error: 'invalid_target', error_description: 'the resource is not allowed for this client' });
    } finally {
      await close();
    }
  });
});
