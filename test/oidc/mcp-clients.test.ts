// Latchkey as the authorization server of MCP servers, proved with a client
// nobody here wrote: @modelcontextprotocol/sdk's OAuth flow discovers the MCP
// server's RFC 9728 metadata from its 401, then Latchkey's RFC 8414
// metadata, identifies itself by a client ID metadata document (first run)
// or by dynamic registration (second run), a person signs in and consents in
// Chromium, and the tool call carries the token. A token for another MCP
// server is refused there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Browser as Chromium, Page } from 'playwright-core';
import { startMcpServer as startExampleMcpServer } from '../../examples/mcp-server.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { startDocumentServer, type DocumentServer } from '../helpers/https-documents.ts';
import { createUser, type TestPerson } from '../helpers/relying-party.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server.ts';

const SCOPE = 'notes.read';

/** The documented example (examples/mcp-server.ts), on a free port. */
async function startMcpServer(issuer: string, name: string) {
  const port = await freePort();
  return { ...(await startExampleMcpServer({ issuer, port, scope: SCOPE, name })), port };
}

/** The SDK's client side of OAuth, with a person at Chromium instead of a real redirect. */
class TestAuthProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  constructor(
    readonly redirectUrl: string,
    readonly clientMetadata: OAuthClientMetadata,
    readonly clientMetadataUrl?: string,
  ) {}
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

describe('MCP clients (@modelcontextprotocol/sdk) against MCP servers protected by Latchkey', () => {
  let latchkey: TestServer;
  let docs: DocumentServer;
  let notes: Awaited<ReturnType<typeof startMcpServer>>;
  let calendar: Awaited<ReturnType<typeof startMcpServer>>;
  let chromium: Chromium;
  let page: Page;
  let person: TestPerson;
  let callbackPort: number;
  let firstRunToken = '';
  const metadataPath = '/clients/notebook-agent.json';

  before(async () => {
    docs = await startDocumentServer();
    latchkey = await startTestServer({
      CLIENT_ID_METADATA_DOCUMENTS: `${docs.origin}/clients/`,
      CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE: 'true',
      CLIENT_ID_METADATA_DOCUMENTS_CA_FILE: docs.caFile,
      DYNAMIC_CLIENT_REGISTRATION: 'open',
      SELF_REGISTERED_CLIENT_API_SCOPES: SCOPE,
    });
    person = await createUser(latchkey);
    notes = await startMcpServer(latchkey.issuer, 'notes');
    calendar = await startMcpServer(latchkey.issuer, 'calendar');
    for (const rs of [notes, calendar]) await latchkey.runtime.resources.create({ identifier: rs.resource, scope: SCOPE });
    callbackPort = await freePort();
    docs.serve(metadataPath, {
      body: {
        client_id: `${docs.origin}${metadataPath}`,
        client_name: 'Notebook Agent',
        redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      headers: { 'cache-control': 'max-age=3600' },
    });
    chromium = await launchChromium();
    page = await (await chromium.newContext()).newPage();
  });
  after(async () => {
    await chromium?.close();
    await notes?.close();
    await calendar?.close();
    await latchkey?.stop();
    await docs?.close();
  });

  /** The person's part: sign in if asked, check who is asking, allow; the code the app's callback got. */
  async function personApproves(url: URL, expectName: string, expectHost: string): Promise<string> {
    let code = '';
    await page.route(`http://127.0.0.1:${callbackPort}/**`, async (route) => {
      code = new URL(route.request().url()).searchParams.get('code') ?? '';
      await route.fulfill({ status: 200, body: 'done' });
    });
    await page.goto(url.href);
    if (await page.getByLabel('Email').count()) {
      await page.getByLabel('Email').fill(person.email);
      await page.getByLabel('Password').fill(person.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForLoadState();
    }
    const text = await page.locator('main').innerText();
    assert.ok(text.includes(expectName), `the consent page names the app: ${text}`);
    assert.ok(text.includes(expectHost), `the consent page shows the app's host ${expectHost}: ${text}`);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/\/callback/);
    await page.unrouteAll();
    assert.ok(code, 'the app got a code');
    return code;
  }

  /** The SDK's whole dance: 401, discovery, client identity, the person, the code exchange, the tool call. */
  async function connectAndCall(provider: TestAuthProvider, expectName: string, expectHost: string) {
    const first = new StreamableHTTPClientTransport(new URL(notes.resource), { authProvider: provider });
    await assert.rejects(new Client({ name: 'agent', version: '1.0.0' }).connect(first), UnauthorizedError);
    const url = provider.authorizationUrl!;
    assert.equal(url.origin, latchkey.issuer, 'discovered Latchkey from the MCP server');
    assert.equal(url.searchParams.get('resource'), notes.resource, 'RFC 8707 names the MCP server');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    await first.finishAuth(await personApproves(url, expectName, expectHost));
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(notes.resource), { authProvider: provider }));
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[] };
    await client.close();
    return result.content[0]!.text;
  }

  it('discovers Latchkey, identifies itself by its metadata document, and calls the tool after the person consents', async () => {
    const provider = new TestAuthProvider(
      `http://127.0.0.1:${callbackPort}/callback`,
      { client_name: 'Notebook Agent', redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`], token_endpoint_auth_method: 'none' },
      `${docs.origin}${metadataPath}`,
    );
    const answer = await connectAndCall(provider, 'Notebook Agent', `localhost:${docs.port}`);
    assert.equal(answer, `notes:${person.id}`);
    assert.equal(provider.info?.client_id, `${docs.origin}${metadataPath}`, 'no registration: the client_id is the document URL');
    assert.equal(docs.hits(metadataPath), 1);
    firstRunToken = provider.saved!.access_token;
  });

  it('falls back to dynamic registration when it has no metadata document', async () => {
    const redirect = `http://127.0.0.1:${callbackPort}/callback`;
    const provider = new TestAuthProvider(redirect, {
      client_name: 'Desk Agent',
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const answer = await connectAndCall(provider, 'Desk Agent', `127.0.0.1:${callbackPort}`);
    assert.equal(answer, `notes:${person.id}`);
    assert.match(provider.info!.client_id, /^latchkey-reg-/, 'registered at /reg');
  });

  it("a token for one MCP server is refused by another (its audience is the first's)", async () => {
    assert.ok(firstRunToken);
    const at = (resource: string) =>
      fetch(resource, {
        method: 'POST',
        headers: { authorization: `Bearer ${firstRunToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    const refused = await at(calendar.resource);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.match(refused.headers.get('www-authenticate') ?? '', new RegExp(`resource_metadata="http://127.0.0.1:${calendar.port}/`));
    assert.equal((await at(notes.resource)).status, 200, 'and accepted by the server it was issued for');
  });
});
