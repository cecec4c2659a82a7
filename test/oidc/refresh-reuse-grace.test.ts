// REFRESH_REUSE_GRACE (src/oidc/refresh-grace.ts): a refresh token used
// again within the window by its own client gets the successor already
// issued; after the window, or by another client, reuse is what it always
// was. Time is the server's clock, moved by the test.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, oidc, postToken, registerClient, serverWithClientAndPerson, type TestClient, type TestPerson } from '../helpers/relying-party.ts';
import type { TestServer } from '../helpers/server.ts';

describe('refresh reuse grace: the successor already issued, within the window, for the same client', () => {
  let server: TestServer;
  let client: TestClient;
  let other: TestClient;
  let person: TestPerson;
  let offset = 0;
  before(async () => {
    ({ server, client, person } = await serverWithClientAndPerson());
    other = await registerClient(server, { name: 'Other' });
    server.runtime.clock.now = () => Date.now() + offset;
  });
  beforeEach(() => {
    offset = 0;
  });
  after(() => server.stop());

  const offline = async () => (await codeFlow(client, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' })).tokens;
  const refresh = (token: string, as = client) => postToken(server, as, { grant_type: 'refresh_token', refresh_token: token });
  const active = async (accessToken: string) => (await oidc.tokenIntrospection(client.config, accessToken)).active;

  it('has five seconds of grace by default', () => {
    assert.equal(server.runtime.config.refreshReuseGrace, 5);
  });

  it('two parallel refreshes with the same token both succeed with the same successor', async () => {
    const tokens = await offline();
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(tokens.refresh_token!)));
    assert.deepEqual(
      results.map((r) => r.status),
      Array(8).fill(200),
      JSON.stringify(results.find((r) => r.status !== 200)?.body),
    );
    const successors = new Set(results.map((r) => r.body.refresh_token));
    assert.equal(successors.size, 1, 'every answer names the same successor');
    assert.notEqual([...successors][0], tokens.refresh_token);
    // An access token each, all for the same grant, all live.
    assert.equal(new Set(results.map((r) => r.body.access_token)).size, 8);
    for (const r of results) assert.equal(await active(r.body.access_token), true);
    // The one successor goes on working.
    const next = await refresh([...successors][0]!);
    assert.equal(next.status, 200);
    assert.notEqual(next.body.refresh_token, [...successors][0]);
  });

  it('a retry within the window gets the same successor; the window runs from the first use', async () => {
    const tokens = await offline();
    const first = await refresh(tokens.refresh_token!);
    assert.equal(first.status, 200);
    offset = 4_000;
    const retry = await refresh(tokens.refresh_token!);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal(retry.body.refresh_token, first.body.refresh_token);
    assert.equal(retry.body.scope, first.body.scope);
    assert.ok(retry.body.id_token, 'an ID token again, for the same person');
    // The retry did not restart the window: six seconds after the first use is past it.
    offset = 6_000;
    const late = await refresh(tokens.refresh_token!);
    assert.equal(late.status, 400);
    assert.equal(late.body.error, 'invalid_grant');
  });

  it('a retry after the window revokes the whole family', async () => {
    const tokens = await offline();
    const first = await refresh(tokens.refresh_token!);
    offset = 5_001;
    const reuse = await refresh(tokens.refresh_token!);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    const successor = await refresh(first.body.refresh_token!);
    assert.equal(successor.body.error, 'invalid_grant', 'the successor died with the grant');
    assert.equal(await active(first.body.access_token), false);
    assert.equal(await active(tokens.access_token), false);
  });

  it('a reuse by another client is refused, within the window too, and takes nothing from the owner', async () => {
    const tokens = await offline();
    const first = await refresh(tokens.refresh_token!);
    const stolen = await refresh(tokens.refresh_token!, other);
    assert.equal(stolen.status, 400);
    assert.equal(stolen.body.error, 'invalid_grant');
    assert.equal(stolen.body.refresh_token, undefined);
    // Parallel attempts by the other client with a fresh token get nothing either.
    const fresh = await offline();
    const raced = await Promise.all([refresh(fresh.refresh_token!, other), refresh(fresh.refresh_token!), refresh(fresh.refresh_token!, other)]);
    assert.deepEqual(
      raced.map((r) => r.status),
      [400, 200, 400],
    );
    // The owner's retry still gets its successor, which still works.
    const retry = await refresh(tokens.refresh_token!);
    assert.equal(retry.body.refresh_token, first.body.refresh_token);
    assert.equal((await refresh(first.body.refresh_token!)).status, 200);
  });

  it('a successor is not a token anyone could compute: it differs for every token and server', async () => {
    const a = await offline();
    const b = await offline();
    const [ra, rb] = await Promise.all([refresh(a.refresh_token!), refresh(b.refresh_token!)]);
    assert.notEqual(ra.body.refresh_token, rb.body.refresh_token);
    assert.match(ra.body.refresh_token!, /^[A-Za-z0-9_-]{43}$/);
  });
});
