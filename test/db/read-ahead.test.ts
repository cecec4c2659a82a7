// A token's use reads its grant and its person with the token, in one
// statement (src/db/read-ahead.ts). What is read ahead belongs to the request
// that read it: served to it once, never to another request, never outside one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStorage, type Storage } from '../../src/db/database.ts';
import { withReadAhead } from '../../src/db/read-ahead.ts';
import { storedId } from '../../src/oidc/adapter.ts';
import { statementsWhileClockStands } from '../helpers/api-keys.ts';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, createUser, oidc, registerClient, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe("a token's grant and person are read with it, for its own request only", () => {
  let server: TestServer;
  let client: TestClient;
  let person: TestPerson;
  let storage: Storage;
  before(async () => {
    // Nothing writes on a timer of its own while statements are counted (see statementsWhileClockStands).
    server = await startTestServer({ AUDIT_FLUSH_INTERVAL: '3600', KEY_REFRESH_INTERVAL: '3600' });
    client = await registerClient(server);
    person = await createUser(server);
    storage = await openStorage(server.env.DATABASE_URL!);
  });
  after(async () => {
    await storage.close();
    await server.stop();
  });

  const offline = () => codeFlow(client, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' });

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
    );
    // A refresh: one read, then the consumption and the two new tokens. A userinfo call: one read.
    const expected = 5 * (1 + 3) + 5 * 1;
    assert.ok(
      spent >= expected && spent <= expected + polls,
      `${spent} statements for 5 refreshes and 5 userinfo calls (expected ${expected}, back-channel polls allowed: ${polls})`,
    );
  });

  it('what one request read ahead is served to it once, and to no other request, nor outside one', async () => {
    const { tokens } = await offline();
    const key = storedId(server.runtime.artifactIdKey, 'RefreshToken', tokens.refresh_token!);
    const grantId = (JSON.parse((await storage.artifacts.find('RefreshToken', key))!.payload) as { grantId: string }).grantId;
    let current: object | undefined;
    const { artifacts, accounts } = withReadAhead(storage.artifacts, storage.accounts, () => current);
    const mine = {};
    const theirs = {};

    current = mine;
    assert.ok(await artifacts.find('RefreshToken', key));
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

  it('a request that writes the grant it read ahead reads it again', async () => {
    const { tokens } = await offline();
    const key = storedId(server.runtime.artifactIdKey, 'RefreshToken', tokens.refresh_token!);
    const grantId = (JSON.parse((await storage.artifacts.find('RefreshToken', key))!.payload) as { grantId: string }).grantId;
    const grantRow = (await storage.artifacts.find('Grant', grantId))!;
    const request = {};
    const { artifacts } = withReadAhead(storage.artifacts, storage.accounts, () => request);
    assert.ok(await artifacts.find('RefreshToken', key));
    const changed = JSON.stringify({ ...JSON.parse(grantRow.payload), changedBy: 'this request' });
    await artifacts.upsert('Grant', grantId, {
      payload: changed,
      grantId: null,
      userCode: null,
      uid: null,
      accountId: person.id,
      clientId: client.clientId,
      expiresAt: grantRow.expiresAt,
    });
    assert.equal((await artifacts.find('Grant', grantId))?.payload, changed);
  });
});
