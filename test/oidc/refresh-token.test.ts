import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser } from '../helpers/browser.ts';
import {
  codeFlow,
  createUser,
  oidc,
  postToken,
  registerClient,
  serverWithClientAndPerson,
  type TestClient,
  type TestPerson,
} from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('refresh tokens: rotation, reuse detection, atomic consumption (REFRESH_REUSE_GRACE=0)', () => {
  let server: TestServer;
  let client: TestClient;
  let person: TestPerson;
  // Without the grace window (test/oidc/refresh-reuse-grace.test.ts has it): every reuse is a theft.
  before(async () => {
    server = await startTestServer({ REFRESH_REUSE_GRACE: '0' });
    client = await registerClient(server);
    person = await createUser(server);
  });
  after(() => server.stop());

  const offline = () => codeFlow(client, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' });

  it('rotates the refresh token on every use and keeps the subject', async () => {
    const { tokens } = await offline();
    const first = tokens.refresh_token!;
    const next = await oidc.refreshTokenGrant(client.config, first);
    assert.ok(next.refresh_token);
    assert.notEqual(next.refresh_token, first);
    assert.notEqual(next.access_token, tokens.access_token);
    assert.equal(next.claims()!.sub, person.id);
    const third = await oidc.refreshTokenGrant(client.config, next.refresh_token!);
    assert.ok(third.access_token);
  });

  it('a reused refresh token is refused and revokes the whole grant', async () => {
    const { tokens } = await offline();
    const first = tokens.refresh_token!;
    const rotated = await oidc.refreshTokenGrant(client.config, first);

    const reuse = await postToken(server, client, { grant_type: 'refresh_token', refresh_token: first });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');

    // The legitimate holder's newer tokens die with the grant.
    const after = await postToken(server, client, { grant_type: 'refresh_token', refresh_token: rotated.refresh_token! });
    assert.equal(after.body.error, 'invalid_grant');
    const introspected = await oidc.tokenIntrospection(client.config, rotated.access_token);
    assert.equal(introspected.active, false);
  });

  it('of 20 concurrent refreshes with the same token exactly one succeeds', async () => {
    const { tokens } = await offline();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => postToken(server, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })),
    );
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_grant');
    }
  });

  // An API of format jwt: the provider stores no access token, so the held consumption is made before the JWT is signed.
  it('with a JWT access token: of 20 concurrent refreshes exactly one succeeds, the others get invalid_grant as OAuth JSON', async () => {
    const api = 'https://hr-race.example.test';
    await server.runtime.resources.create({ identifier: api, scope: 'hr.read', format: 'jwt' });
    const app = await registerClient(server, { apiScope: 'hr.read', defaultResource: api });
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { scope: 'openid hr.read offline_access', prompt: 'consent' });
    assert.equal(tokens.access_token.split('.').length, 3, 'a JWT access token: the provider stores none');
    const issued = async () => (await server.metrics.tokensIssued.get()).values.find((v) => v.labels.grant_type === 'refresh_token')?.value ?? 0;
    const before = await issued();
    // No Accept header, as curl and many HTTP libraries send.
    const results = await Promise.all(
      Array.from({ length: 20 }, () => postToken(server, app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_grant');
    }
    assert.equal((await issued()) - before, 1, 'one refresh counted as issued');
  });

  it('a refresh token from another client is refused', async () => {
    const { tokens } = await offline();
    const other = await registerClient(server, { name: 'Other' });
    const res = await postToken(server, other, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    assert.equal(res.body.error, 'invalid_grant');
  });

  it('a disabled person can no longer refresh', async () => {
    const someone = await createUser(server);
    const { tokens } = await codeFlow(client, new Browser(server.url), someone, { scope: 'openid offline_access', prompt: 'consent' });
    await server.runtime.users.setDisabled(someone.id, true);
    const res = await postToken(server, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    assert.equal(res.body.error, 'invalid_grant');
  });
});

describe('introspection and revocation', () => {
  let server: TestServer;
  let client: TestClient;
  let person: TestPerson;
  before(async () => ({ server, client, person } = await serverWithClientAndPerson()));
  after(() => server.stop());

  it('introspection reports an active token with its subject, client and scope', async () => {
    const { tokens } = await codeFlow(client, new Browser(server.url), person);
    const info = await oidc.tokenIntrospection(client.config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.sub, person.id);
    assert.equal(info.client_id, client.clientId);
    assert.match(String(info.scope), /openid/);
  });

  it('a revoked access token is inactive and refused at userinfo', async () => {
    const { tokens } = await codeFlow(client, new Browser(server.url), person);
    await oidc.tokenRevocation(client.config, tokens.access_token);
    const info = await oidc.tokenIntrospection(client.config, tokens.access_token);
    assert.equal(info.active, false);
    await assert.rejects(oidc.fetchUserInfo(client.config, tokens.access_token, person.id), (err: Error & { status?: number }) => {
      assert.equal((err as { status?: number }).status, 401);
      return true;
    });
  });

  it('a revoked refresh token can no longer be used', async () => {
    const { tokens } = await codeFlow(client, new Browser(server.url), person, { scope: 'openid offline_access', prompt: 'consent' });
    await oidc.tokenRevocation(client.config, tokens.refresh_token!);
    await assert.rejects(oidc.refreshTokenGrant(client.config, tokens.refresh_token!), (err: Error & { error?: string }) => {
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
  });

  it('introspection with a wrong client secret is invalid_client', async () => {
    const { tokens } = await codeFlow(client, new Browser(server.url), person);
    const res = await fetch(`${server.issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:not-the-secret`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });
});
