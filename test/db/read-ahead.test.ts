// A token's use reads its grant and its person with the token, in one
// statement (src/db/read-ahead.ts). What is read ahead belongs to the request
// that read it: served to it once, never to another request, never outside one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Storage } from '../../src/db/database.ts';
import { withReadAhead } from '../../src/db/read-ahead.ts';
import { storedId } from '../../src/oidc/adapter.ts';
import { statementsWhileClockStands } from '../helpers/api-keys.ts';
import { artifactColumns, serverWithStorage } from '../helpers/storage.ts';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, createUser, oidc, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import type { TestServer } from '../helpers/server.ts';

describe("a token's grant and person are read with it, for its own request only", () => {
  let server: TestServer;
  let client: TestClient;
  let person: TestPerson;
  let storage: Storage;
  let close: () => Promise<void>;
  before(async () => {
    ({ server, client, person, storage, close } = await serverWithStorage());
  });
  after(() => close());

  const offline = () => codeFlow(client, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' });
  /** The grant a refresh token was issued under, as stored. */
  const grantOf = async (tokens: { refresh_token?: string }) => {
    const row = await storage.artifacts.find('RefreshToken', storedId(server.runtime.artifactIdKey, 'RefreshToken', tokens.refresh_token!));
    return (JSON.parse(row!.payload) as { grantId: string }).grantId;
  };

  it('a refresh and a userinfo call read their token, grant and person with one statement', async () => {
    let { tokens } = await offline();
    const { spent, polls } = await statementsWhileClockStands(
      server,
      async () => {
        tokens = await oidc.refreshTokenGrant(client.config, tokens.refresh_token!);
      },
      async () => {
        for (let i = 0; i < 5; i++) {
          tokens = await oidc.refreshTokenGrant(client.config, tokens.refresh_token!);
          assert.equal((await oidc.fetchUserInfo(client.config, tokens.access_token, person.id)).sub, person.id);
        }
      },
      'query',
    );
    // One read each (their writes are counted in held-writes.test.ts).
    const expected = 5 + 5;
    assert.ok(
      spent >= expected && spent <= expected + polls,
      `${spent} reads for 5 refreshes and 5 userinfo calls (expected ${expected}, back-channel polls allowed: ${polls})`,
    );
  });

  it('what one request read ahead is served to it once, and to no other request, nor outside one', async () => {
    const { tokens } = await offline();
    const key = storedId(server.runtime.artifactIdKey, 'RefreshToken', tokens.refresh_token!);
    const grantId = await grantOf(tokens);
    let current: object | undefined;
    const { artifacts, accounts } = withReadAhead(storage.artifacts, storage.accounts, () => current);
    const mine = {};
    const theirs = {};

    const other = await createUser(server);
    const otherGrantId = await grantOf((await codeFlow(client, new Browser(server.url), other, { scope: 'openid offline_access', prompt: 'consent' })).tokens);

    current = mine;
    assert.ok(await artifacts.find('RefreshToken', key));
    // Another grant and another person are read from the database, not answered with this token's.
    assert.deepEqual(await artifacts.find('Grant', otherGrantId), await storage.artifacts.find('Grant', otherGrantId));
    assert.equal((await accounts.find(other.id))?.id, other.id);
    // The grant is revoked and the person renamed after the token was read.
    const grantRow = await storage.artifacts.find('Grant', grantId);
    assert.ok(grantRow, 'the grant is stored');
    await storage.artifacts.destroy('Grant', grantId);
    await server.runtime.users.update(person.id, { name: 'Renamed' });

    current = theirs;
    assert.equal(await artifacts.find('Grant', grantId), undefined, 'another request reads the grant as it is now');
    assert.equal((await accounts.find(person.id))?.name, 'Renamed', 'another request reads the person as they are now');
    current = undefined;
    assert.equal(await artifacts.find('Grant', grantId), undefined, 'outside a request the grant is read as it is now');
    assert.equal((await accounts.find(person.id))?.name, 'Renamed');

    current = mine;
    assert.deepEqual(await artifacts.find('Grant', grantId), grantRow, 'the request that read the token gets the grant as read with it');
    assert.notEqual((await accounts.find(person.id))?.name, 'Renamed', 'and the person as read with it');
    assert.equal(await artifacts.find('Grant', grantId), undefined, 'once: read again, the grant is as it is now');
    assert.equal((await accounts.find(person.id))?.name, 'Renamed', 'once: read again, the person is as they are now');
  });

  it("a request's first write ends what it read ahead: every read after it goes to the database", async () => {
    for (const write of ['upsert', 'destroy', 'consume', 'revokeByGrantId', 'insertOnce'] as const) {
      const { tokens } = await offline();
      const key = storedId(server.runtime.artifactIdKey, 'RefreshToken', tokens.refresh_token!);
      const grantId = await grantOf(tokens);
      const request = {};
      const { artifacts, accounts } = withReadAhead(storage.artifacts, storage.accounts, () => request);
      assert.ok(await artifacts.find('RefreshToken', key));
      await storage.artifacts.destroy('Grant', grantId);
      await server.runtime.users.update(person.id, { name: `Renamed before ${write}` });
      const marker = `marker-${write}-${Date.now()}`;
      const later = new Date(Date.now() + 60_000);
      if (write === 'upsert') {
        await artifacts.upsert('Session', marker, artifactColumns({ expiresAt: later }));
      } else if (write === 'destroy') await artifacts.destroy('Session', marker);
      else if (write === 'consume') await artifacts.consume('AuthorizationCode', marker, new Date());
      else if (write === 'revokeByGrantId') await artifacts.revokeByGrantId('Session', marker);
      else await artifacts.insertOnce('ReplayMarker', marker, later);
      assert.equal(await artifacts.find('Grant', grantId), undefined, `after ${write}, the grant is read as it is now`);
      assert.equal((await accounts.find(person.id))?.name, `Renamed before ${write}`, `after ${write}, the person is read as they are now`);
    }
  });

  it('one statement reads what the separate reads read, on either database', async () => {
    const someone = await createUser(server);
    const { tokens } = await codeFlow(client, new Browser(server.url), someone, { scope: 'openid offline_access', prompt: 'consent' });
    const key = storedId(server.runtime.artifactIdKey, 'RefreshToken', tokens.refresh_token!);
    const grantId = await grantOf(tokens);
    const separately = async () => ({
      row: await storage.artifacts.find('RefreshToken', key),
      grant: { id: grantId, row: await storage.artifacts.find('Grant', grantId) },
      account: { id: someone.id, row: await storage.accounts.find(someone.id) },
    });
    assert.deepEqual(await storage.artifacts.findWithRelated('RefreshToken', key), await separately());
    // Disabled and unverified in the table itself (disabling through the service would delete the tokens),
    // and the grant consumed and expired.
    await server.runtime.db.user.update({ where: { id: someone.id }, data: { disabled: true, emailVerified: false, name: null } });
    const grant = (await storage.artifacts.find('Grant', grantId))!;
    await storage.artifacts.consume('Grant', grantId, new Date(Date.now() - 5_000));
    const expired = new Date(Date.now() - 1_000);
    await storage.artifacts.upsert(
      'Grant',
      grantId,
      artifactColumns({ payload: grant.payload, accountId: someone.id, clientId: client.clientId, expiresAt: expired }),
    );
    const joined = await storage.artifacts.findWithRelated('RefreshToken', key);
    assert.deepEqual(joined, await separately());
    assert.equal(joined.account?.row?.disabled, true);
    assert.equal(joined.account?.row?.emailVerified, false);
    assert.ok(joined.grant?.row?.consumedAt && joined.grant.row.expiresAt, 'the grant reads consumed and expired');
    // A row that names no grant and no person, and one that is not there.
    await storage.artifacts.upsert('AccessToken', `bare-${grantId}`, artifactColumns({ expiresAt: null }));
    assert.deepEqual(await storage.artifacts.findWithRelated('AccessToken', `bare-${grantId}`), {
      row: await storage.artifacts.find('AccessToken', `bare-${grantId}`),
      grant: undefined,
      account: undefined,
    });
    assert.deepEqual(await storage.artifacts.findWithRelated('AccessToken', 'no-such-token'), {});
  });
});
