// A test server with an app and a person, and a connection of the test's own
// to the server's database: the stores as the server opens them, used outside
// any request (test/db/read-ahead.test.ts, held-writes.test.ts).
import type { ArtifactColumns } from '../../src/db/artifact-store.ts';
import { openStorage } from '../../src/db/database.ts';
import { createUser, registerClient } from './relying-party.ts';
import { startTestServer } from './server.ts';

export async function serverWithStorage() {
  // Nothing writes on a timer of its own while statements are counted (see statementsWhileClockStands).
  const server = await startTestServer({ AUDIT_FLUSH_INTERVAL: '3600', KEY_REFRESH_INTERVAL: '3600' });
  const client = await registerClient(server);
  const person = await createUser(server);
  const storage = await openStorage(server.env.DATABASE_URL!);
  const close = async () => {
    await storage.close();
    await server.stop();
  };
  return { server, client, person, storage, close };
}

/** An artifact's columns: nothing named, expiring in a minute, unless given. */
export const artifactColumns = (given: Partial<ArtifactColumns> = {}): ArtifactColumns => ({
  payload: '{}',
  grantId: null,
  userCode: null,
  uid: null,
  accountId: null,
  clientId: null,
  expiresAt: new Date(Date.now() + 60_000),
  ...given,
});
