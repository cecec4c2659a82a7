// oidc-provider answers POST /Token/ as POST /token (its router folds case
// and one trailing slash). Everything in front of it must read such a
// request as it does: an attacker guessing a client's secret at another
// spelling of the token endpoint, from many addresses, spends that client's
// failure budget as at /token itself.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://quotes.example.test';

describe('the token endpoints at other spellings of their paths', () => {
  let server: TestServer;
  const victim = {} as { id: string; secret: string };
  before(async () => {
    server = await startTestServer({ RATE_LIMIT_TOKEN: '', RATE_LIMIT_FAILURES: '10/60', TRUST_PROXY: 'true' });
    await server.runtime.resources.create({ identifier: API, scope: 'q.read', format: 'jwt' });
    const { client, clientSecret } = await server.runtime.clients.create({
      name: 'victim',
      redirectUris: ['https://q.example.test/cb'],
      clientCredentials: true,
      apiScope: 'q.read',
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    Object.assign(victim, { id: client.clientId, secret: clientSecret });
  });
  after(() => server.stop());

  // client_secret_post: the client is named in the body only.
  const token = async (path: string, from: string, secret: string, extra: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, client_id: victim.id, client_secret: secret, ...extra }),
    });
    return { status: res.status, body: (await res.json()) as { error?: string; error_description?: string; access_token?: string } };
  };

  it('are answered as the canonical path', async () => {
    for (const path of ['/token/', '/Token', '/TOKEN/']) {
      const ok = await token(path, '198.51.100.7', victim.secret);
      assert.equal(ok.status, 200, `${path}: ${JSON.stringify(ok.body)}`);
      assert.ok(ok.body.access_token);
    }
  });

  it("count a guessed secret against the client's failure budget, from whatever address", async () => {
    const guesses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => token(['/Token', '/token/', '/tOkEn/'][i % 3]!, `203.0.113.${i + 1}`, `guess-${i}`)),
    );
    assert.ok(
      guesses.every((g) => g.status === 401 || g.status === 429),
      JSON.stringify(guesses.map((g) => g.status)),
    );
    // The client's own failing request, from an address of its own: its budget is spent.
    const failing = await token('/token', '198.51.100.8', victim.secret, { grant_type: 'refresh_token', refresh_token: 'nope' });
    assert.equal(failing.status, 429, JSON.stringify(failing.body));
    assert.match(failing.body.error_description!, new RegExp(`too many failed requests for client '${victim.id}'`));
    // Its successful requests are not refused for failures made in its name.
    assert.equal((await token('/token', '198.51.100.8', victim.secret)).status, 200);
  });
});
