// Generated client ids as the CLI reads them: `client show <id>` must never
// take an id for an option.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_ID_PATTERN } from '../../../src/services/machines/clients.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

describe('generated client ids', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('start with a letter or digit, never "-" or "_" (one random id in 32 did), and keep 128 random bits', async () => {
    // 200 ids: without the rule, the chance that none starts with "-" or "_" is (31/32)^200, under 0.2%.
    const ids = await Promise.all(
      Array.from(
        { length: 200 },
        async (_, i) => (await server.runtime.clients.create({ name: `app ${i}`, redirectUris: ['https://app.example.test/cb'] })).client.clientId,
      ),
    );
    for (const id of ids) {
      assert.match(id, CLIENT_ID_PATTERN);
      assert.equal(id.length, 22, id);
    }
    assert.equal(new Set(ids).size, ids.length);
  });
});
