// OAuth Client ID Metadata Documents: an app whose client_id is the https URL
// of its own registration signs a person in without being created here; a
// document that breaks a rule, or a URL Latchkey may not fetch, gets nowhere.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Browser, pageText, type Page } from '../helpers/browser.ts';
import { createUser, submitConsent, submitLogin, type TestPerson } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startDocumentServer, type DocumentServer } from '../helpers/https-documents.ts';
import { loadConfig } from '../../src/config/env.ts';
import { metadataDocumentFeature } from '../../src/oidc/client-metadata-documents.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';

describe('client ID metadata documents', () => {
  let server: TestServer;
  let docs: DocumentServer;
  let person: TestPerson;
  const documentOf = (path: string, extra: Record<string, unknown> = {}) => ({
    client_id: `${docs.origin}${path}`,
    client_name: 'Notebook Agent',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    ...extra,
  });

  before(async () => {
    docs = await startDocumentServer();
    server = await startTestServer({
      CLIENT_ID_METADATA_DOCUMENTS: `${docs.origin}/apps/`,
      CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE: 'true',
      CLIENT_ID_METADATA_DOCUMENTS_CA_FILE: docs.caFile,
    });
    person = await createUser(server);
    docs.serve('/apps/notebook.json', { body: documentOf('/apps/notebook.json'), headers: { 'cache-control': 'max-age=300' } });
  });
  after(async () => {
    await server?.stop();
    await docs?.close();
  });

  const authorize = async (clientId: string, extra: Record<string, string> = {}) => {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${server.issuer}/auth`);
    const params = {
      client_id: clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'st',
      ...extra,
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return { url, verifier };
  };
  /** What the authorization endpoint answers (no redirect followed). */
  const answer = async (clientId: string, extra: Record<string, string> = {}) => {
    const res = await fetch((await authorize(clientId, extra)).url, { redirect: 'manual' });
    return { status: res.status, location: res.headers.get('location') ?? '', text: res.status === 200 || res.status >= 400 ? pageText(await res.text()) : '' };
  };

  it('is advertised in both discovery documents when on, and off by default', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const metadata = (await (await fetch(`${server.issuer}${path}`)).json()) as Record<string, unknown>;
      assert.equal(metadata.client_id_metadata_document_supported, true, path);
    }
    assert.equal(metadataDocumentFeature(loadConfig({ NODE_ENV: 'test' })).enabled, false);
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', CLIENT_ID_METADATA_DOCUMENTS: 'true', CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE: 'true' }),
      /CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE: not allowed when NODE_ENV=production/,
    );
    assert.throws(() => loadConfig({ NODE_ENV: 'test', CLIENT_ID_METADATA_DOCUMENTS: 'http://apps.example.com/' }), /CLIENT_ID_METADATA_DOCUMENTS: must be/);
    assert.ok(
      server.runtime.config.warnings.some((w) => w.startsWith('CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE=true')),
      'the development setting is printed at start-up',
    );
  });

  it("signs a person in: the consent page names the app and its host, and the code is exchanged by the document's client", async () => {
    const clientId = `${docs.origin}/apps/notebook.json`;
    const browser = new Browser(server.issuer);
    const { url, verifier } = await authorize(clientId);
    const login = (await browser.navigate(url.href)) as Page;
    const consent = (await submitLogin(browser, login, person.email, person.password)) as Page;
    const text = pageText(consent.html);
    assert.match(text, /Notebook Agent/);
    assert.ok(text.includes(`localhost:${docs.port}`), `the consent page shows the document's host: ${text.slice(0, 400)}`);
    const back = await submitConsent(browser, consent);
    assert.ok('redirect' in back);
    const code = new URL(back.redirect).searchParams.get('code')!;
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId }),
    });
    const body = (await res.json()) as Record<string, string>;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(body.access_token && body.id_token);
    assert.equal(docs.hits('/apps/notebook.json'), 1, 'fetched once, then served from the cache its Cache-Control allows');
  });

  it('a redirect_uri the document does not list is refused, and nothing is sent to it', async () => {
    const res = await answer(`${docs.origin}/apps/notebook.json`, { redirect_uri: 'http://127.0.0.1:9/other' });
    assert.equal(res.status, 400);
    assert.equal(res.location, '');
    assert.match(res.text, /redirect_uri/);
  });

  const refusedDocuments: [string, Record<string, unknown>, RegExp][] = [
    ['client_id is not its own URL', { client_id: 'https://elsewhere.example/app.json' }, /fetch failed|client_id/],
    ['a shared secret method', { token_endpoint_auth_method: 'client_secret_basic' }, /must not use shared-secret|token_endpoint_auth_method/],
    ['API scopes it gives itself', { latchkey_api_scope: 'cmdb.write' }, /API scopes are granted by the server/],
    ['the client_credentials grant', { grant_types: ['authorization_code', 'client_credentials'] }, /client_credentials|grant/],
    ['an http redirect URI off loopback', { redirect_uris: ['http://evil.example/cb'] }, /https|redirect/],
    ['private_key_jwt without a jwks_uri', { token_endpoint_auth_method: 'private_key_jwt' }, /jwks/],
  ];
  for (const [what, change, expected] of refusedDocuments) {
    it(`a document with ${what} is refused`, async () => {
      const path = `/apps/${randomBytes(4).toString('hex')}.json`;
      docs.serve(path, { body: { ...documentOf(path), ...change } });
      const res = await answer(`${docs.origin}${path}`, change.redirect_uris ? { redirect_uri: (change.redirect_uris as string[])[0]! } : {});
      assert.equal(res.status, 400, res.text);
      assert.equal(res.location, '', 'the browser is never sent anywhere');
      assert.match(res.text, expected);
    });
  }

  it('a document too large, a redirect to another document, or one outside the allowed prefix is never used', async () => {
    docs.serve('/apps/big.json', { body: { ...documentOf('/apps/big.json'), padding: 'x'.repeat(6000) } });
    docs.serve('/apps/moved.json', { status: 302, headers: { location: `${docs.origin}/apps/notebook.json` } });
    docs.serve('/elsewhere/app.json', { body: documentOf('/elsewhere/app.json') });
    const notebookHits = docs.hits('/apps/notebook.json');
    for (const path of ['/apps/big.json', '/apps/moved.json', '/elsewhere/app.json']) {
      const res = await answer(`${docs.origin}${path}`);
      assert.equal(res.status, 400, path);
      assert.equal(res.location, '', path);
    }
    assert.equal(docs.hits('/elsewhere/app.json'), 0, 'a URL outside CLIENT_ID_METADATA_DOCUMENTS is not even fetched');
    assert.equal(docs.hits('/apps/notebook.json'), notebookHits, 'the redirect was not followed');
    assert.ok(
      server.logs.some((l) => l.includes('larger than 5120 bytes')),
      'the operator learns why',
    );
  });
});
