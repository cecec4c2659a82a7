// Two nodes, one database: a key revoked through one node is refused by the
// other at its very next introspection (no cache of keys anywhere).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';
import { createUser } from '../helpers/relying-party.ts';
import { introspect, resourceServerClient } from '../helpers/api-keys.ts';

const API = 'https://fleet.example.test';

describe('API key revocation across nodes', () => {
  let first: TestServer;
  let second: TestServer;
  before(async () => {
    first = await startTestServer();
    second = await startSecondNode(first);
  });
  after(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('revoked on node 1, inactive on node 2 at once; disabling the owner likewise', async () => {
    await first.runtime.resources.create({ identifier: API, scope: 'fleet.read' });
    const rs = await resourceServerClient(first, [API]);
    const person = await createUser(first);
    const a = await first.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'a', scope: 'fleet.read' });
    const b = await first.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'b', scope: 'fleet.read' });
    assert.equal((await introspect(second, rs, { token: a.key })).body.active, true);
    assert.equal((await introspect(second, rs, { token: b.key })).body.active, true);
    await first.runtime.apiKeys.revoke(a.record.id);
    assert.deepEqual((await introspect(second, rs, { token: a.key })).body, { active: false });
    await first.runtime.users.setDisabled(person.id, true);
    assert.deepEqual((await introspect(second, rs, { token: b.key })).body, { active: false });
  });
});
