// A token presented at introspection or revocation is looked up as up to three
// token models in one statement (findAmong, src/db/artifact-store.ts). On
// SQLite that statement answers one row with each model's columns side by
// side; on PostgreSQL, a row per model found. Either way the answer must hold
// each model stored under the id, with its own columns, and nothing for the
// others, on both databases.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStorage, type Storage } from '../../src/db/database.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/server.ts';

describe('a token looked up as several models at once', () => {
  let dir: string;
  let database: TestDatabase;
  let storage: Storage;
  const expiresAt = new Date('2030-01-02T03:04:05.678Z');
  const consumedAt = new Date('2029-06-07T08:09:10.111Z');
  const columns = (payload: string) => ({ payload, grantId: null, userCode: null, uid: null, accountId: null, clientId: 'app', expiresAt });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-artifacts-'));
    database = await createTestDatabase(dir, { migrated: true });
    storage = await openStorage(database.url);
    // One id stored as two models (an access token and a refresh token), the second one consumed; another as all three.
    await storage.artifacts.upsert('AccessToken', 'shared-id', columns('{"kind":"AccessToken"}'));
    await storage.artifacts.upsert('RefreshToken', 'shared-id', { ...columns('{"kind":"RefreshToken"}'), expiresAt: null });
    await storage.artifacts.consume('RefreshToken', 'shared-id', consumedAt);
    for (const type of ['AccessToken', 'ClientCredentials', 'RefreshToken']) {
      await storage.artifacts.upsert(type, 'every-id', columns(`{"kind":"${type}","every":true}`));
    }
  });
  after(async () => {
    await storage?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers each model stored under the id with its own columns, and nothing for the models that are not', async () => {
    const found = await storage.artifacts.findAmong(['AccessToken', 'ClientCredentials', 'RefreshToken'], 'shared-id');
    assert.deepEqual([...found.keys()].sort(), ['AccessToken', 'RefreshToken']);
    assert.deepEqual(found.get('AccessToken'), { payload: '{"kind":"AccessToken"}', expiresAt, consumedAt: null });
    assert.deepEqual(found.get('RefreshToken'), { payload: '{"kind":"RefreshToken"}', expiresAt: null, consumedAt });
  });

  it('answers each model in whichever place it is asked for, as the single-model lookup does', async () => {
    const types = ['AccessToken', 'ClientCredentials', 'RefreshToken'];
    const orders = [types, ['ClientCredentials', 'AccessToken', 'RefreshToken'], ['RefreshToken', 'ClientCredentials', 'AccessToken']];
    for (const order of orders) {
      for (const id of ['every-id', 'shared-id']) {
        const found = await storage.artifacts.findAmong(order, id);
        for (const type of types) assert.deepEqual(found.get(type), await storage.artifacts.find(type, id), `${type} of ${id}, asked as ${order}`);
      }
    }
  });

  it('answers as the single-model lookup does with two models asked for, or one model named twice', async () => {
    const two = await storage.artifacts.findAmong(['AccessToken', 'RefreshToken'], 'every-id');
    assert.deepEqual([...two.keys()].sort(), ['AccessToken', 'RefreshToken']);
    assert.deepEqual(two.get('AccessToken'), await storage.artifacts.find('AccessToken', 'every-id'));
    assert.deepEqual(two.get('RefreshToken'), await storage.artifacts.find('RefreshToken', 'every-id'));
    const repeated = await storage.artifacts.findAmong(['ClientCredentials', 'ClientCredentials'], 'every-id');
    assert.deepEqual([...repeated.entries()], [['ClientCredentials', await storage.artifacts.find('ClientCredentials', 'every-id')]]);
  });

  it('answers nothing for an id stored under none of the models', async () => {
    assert.equal((await storage.artifacts.findAmong(['AccessToken', 'ClientCredentials', 'RefreshToken'], 'no-such-id')).size, 0);
  });
});
