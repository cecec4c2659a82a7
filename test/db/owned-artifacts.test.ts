// A person's tokens name only their grant (src/oidc/adapter.ts): disabling
// the person, resetting their password or deleting the app must still remove
// every row issued under their grants, and nobody else's. Driven through real
// sign-ins and refreshes, with a second person and a second app beside them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, createUser, postToken, registerClient, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe("a person's or an app's stored rows, removed through their grants", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ REFRESH_REUSE_GRACE: '0' });
  });
  after(() => server.stop());

  /** A sign-in with offline access, its refresh token rotated once: codes, access and refresh tokens, consumed and live. */
  const signedIn = async (client: TestClient, person: TestPerson) => {
    const { tokens } = await codeFlow(client, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' });
    const rotated = await postToken(server, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    return { refreshToken: String(rotated.body.refresh_token) };
  };
  const grantsOf = async (where: { accountId: string } | { clientId: string }) =>
    (await server.runtime.db.oidcPayload.findMany({ where: { type: 'Grant', ...where }, select: { id: true } })).map((g) => g.id);
  /** Every stored row issued under these grants, by kind. */
  const rowsUnder = async (grantIds: string[]) => {
    const rows = await server.runtime.db.oidcPayload.findMany({ where: { grantId: { in: grantIds } }, select: { type: true } });
    return rows.map((r) => r.type).sort();
  };
  const refreshes = async (client: TestClient, refreshToken: string) =>
    (await postToken(server, client, { grant_type: 'refresh_token', refresh_token: refreshToken })).status === 200;

  for (const [how, end] of [
    ['disabling the person', (id: string) => server.runtime.users.setDisabled(id, true)],
    ['a password reset', (id: string) => server.runtime.users.resetPassword(id, 'a new password hash')],
  ] as const) {
    it(`${how} removes every row issued under their grants, and leaves another person's`, async () => {
      const app = await registerClient(server);
      const [victim, other] = await Promise.all([createUser(server), createUser(server)]);
      await signedIn(app, victim);
      const others = await signedIn(app, other);
      const victimGrants = await grantsOf({ accountId: victim.id });
      const otherGrants = await grantsOf({ accountId: other.id });
      assert.equal(victimGrants.length, 1);
      // What a sign-in and a refresh store under a grant: the consumed code, two access tokens, two refresh tokens. None of
      // them names the person or the app in its columns; the grant names both.
      assert.deepEqual(await rowsUnder(victimGrants), ['AccessToken', 'AccessToken', 'AuthorizationCode', 'RefreshToken', 'RefreshToken']);
      const columns = await server.runtime.db.oidcPayload.findMany({
        where: { OR: [{ grantId: { in: victimGrants } }, { type: 'Grant', id: { in: victimGrants } }] },
        select: { type: true, accountId: true, clientId: true },
      });
      for (const row of columns) {
        const named = row.type === 'Grant' ? { accountId: victim.id, clientId: app.clientId } : { accountId: null, clientId: null };
        assert.deepEqual({ accountId: row.accountId, clientId: row.clientId }, named, row.type);
      }
      const otherRows = await rowsUnder(otherGrants);

      await end(victim.id);

      assert.deepEqual(await rowsUnder(victimGrants), [], 'nothing issued under their grants is left');
      assert.deepEqual(await grantsOf({ accountId: victim.id }), []);
      assert.deepEqual(await rowsUnder(otherGrants), otherRows, "the other person's rows are all still there");
      assert.ok(await refreshes(app, others.refreshToken), 'the other person still refreshes');
    });
  }

  it("deleting an app removes every row issued under its grants, and leaves another app's", async () => {
    const [app, otherApp] = await Promise.all([registerClient(server), registerClient(server)]);
    const person = await createUser(server);
    await signedIn(app, person);
    const kept = await signedIn(otherApp, person);
    const appGrants = await grantsOf({ clientId: app.clientId });
    const otherGrants = await grantsOf({ clientId: otherApp.clientId });
    assert.equal((await rowsUnder(appGrants)).length, 5);
    const otherRows = await rowsUnder(otherGrants);

    await server.runtime.clients.delete(app.clientId);

    assert.deepEqual(await rowsUnder(appGrants), [], 'nothing issued under its grants is left');
    assert.deepEqual(await grantsOf({ clientId: app.clientId }), []);
    assert.deepEqual(await rowsUnder(otherGrants), otherRows, "the other app's rows are all still there");
    assert.ok(await refreshes(otherApp, kept.refreshToken), 'the same person still refreshes at the other app');
  });

  it("an app's id given as a service account's, or the reverse, is refused before anything of it is removed", async () => {
    const app = await registerClient(server);
    const person = await createUser(server);
    const { refreshToken } = await signedIn(app, person);
    const appGrants = await grantsOf({ clientId: app.clientId });
    const appRows = await rowsUnder(appGrants);
    const account = (await server.runtime.serviceAccounts.create({ name: 'beside', scope: 'bench.read', generateKey: 'ES256' })).account.clientId;
    // A stored client-credentials token of the service account (it names the account itself: it has no grant).
    await server.runtime.db.oidcPayload.create({ data: { type: 'ClientCredentials', id: `stored-${account}`, payload: '{}', clientId: account } });
    const accountRows = () => server.runtime.db.oidcPayload.count({ where: { clientId: account } });

    const refusals = await Promise.allSettled([
      server.runtime.serviceAccounts.setDisabled(app.clientId, true),
      server.runtime.serviceAccounts.delete(app.clientId),
      server.runtime.clients.delete(account),
    ]);
    for (const r of refusals) assert.equal(r.status === 'rejected' && (r.reason as { status?: number }).status, 404, JSON.stringify(r));

    assert.deepEqual(await rowsUnder(appGrants), appRows, "the app's rows are all still there");
    assert.deepEqual(await grantsOf({ clientId: app.clientId }), appGrants);
    assert.equal(await accountRows(), 1, "the service account's token is still there");
    assert.ok(await refreshes(app, refreshToken), 'the app still refreshes');
  });
});
