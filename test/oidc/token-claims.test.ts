// Roles and profile claims an API asks for (`resource create --claims`) in
// its access tokens: in the JWT, and in introspection answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { Browser } from '../helpers/browser.ts';
import { codeFlow, createUser, discover, oidc, registerClient, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const HR = 'https://hr.example.test';
const VAULT = 'https://vault.example.test';
const PLAIN = 'https://plain.example.test';

describe('person claims in access tokens', () => {
  let server: TestServer;
  let person: TestPerson;
  before(async () => {
    server = await startTestServer();
    await server.runtime.resources.create({ identifier: HR, scope: 'hr.read', format: 'jwt', claims: 'email name roles' });
    await server.runtime.resources.create({ identifier: VAULT, scope: 'vault.read', format: 'opaque', claims: 'email email_verified roles' });
    await server.runtime.resources.create({ identifier: PLAIN, scope: 'plain.read', format: 'jwt' });
    person = await createUser(server, undefined, undefined, 'Rosalind Franklin');
    await server.runtime.users.addRole(person.id, 'hr-admin');
    await server.runtime.users.addRole(person.id, 'auditor');
  });
  after(() => server.stop());

  it('a JWT access token for an API that asks carries email, name and roles (and the current roles after a refresh)', async () => {
    const app = await registerClient(server, { apiScope: 'hr.read', defaultResource: HR });
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { scope: 'openid hr.read offline_access', prompt: 'consent' });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { audience: HR });
    assert.equal(payload.email, person.email);
    assert.equal(payload.name, 'Rosalind Franklin');
    assert.deepEqual(payload.roles, ['auditor', 'hr-admin']);
    assert.equal(payload.email_verified, undefined, 'only what was asked for');

    // Roles are read when a token is issued: a refreshed token has the current ones.
    await server.runtime.users.removeRole(person.id, 'hr-admin');
    const refreshed = await oidc.refreshTokenGrant(app.config, tokens.refresh_token!);
    assert.deepEqual(decodeJwt(refreshed.access_token).roles, ['auditor']);
    await server.runtime.users.addRole(person.id, 'hr-admin');
  });

  it('an opaque token for an API that asks: the claims are in its introspection answer', async () => {
    const app = await registerClient(server, { apiScope: 'vault.read', defaultResource: VAULT });
    const api = await registerClient(server, { name: 'Vault API', resourceServers: [VAULT] });
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { scope: 'vault.read openid' });
    assert.equal(tokens.access_token.split('.').length, 1, 'opaque');
    const seen = await oidc.tokenIntrospection(api.config, tokens.access_token);
    assert.equal(seen.active, true);
    assert.equal(seen.aud, VAULT);
    assert.equal(seen.email, person.email);
    assert.equal(seen.email_verified, true);
    assert.deepEqual(seen.roles, ['auditor', 'hr-admin']);
  });

  it('an API that asks for nothing gets none of them, and machine tokens never carry them', async () => {
    const app = await registerClient(server, { apiScope: 'plain.read', defaultResource: PLAIN });
    const { tokens } = await codeFlow(app, new Browser(server.url), person, { scope: 'openid plain.read' });
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.email, undefined);
    assert.equal(claims.roles, undefined);

    const { client, clientSecret } = await server.runtime.clients.create({ name: 'Nightly', redirectUris: [], clientCredentials: true, apiScope: 'hr.read' });
    const machine = await oidc.clientCredentialsGrant(await discover(server, client.clientId, clientSecret), { resource: HR });
    const machineClaims = decodeJwt(machine.access_token);
    assert.equal(machineClaims.aud, HR);
    assert.equal(machineClaims.roles, undefined);
    assert.equal(machineClaims.email, undefined);
  });
});
