// Relying-party side of the tests: openid-client (a certified RP library)
// against a live server, with the person driven through our pages.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from './server.ts';
import { Browser, csrfToken, formAction, type Page } from './browser.ts';

export interface TestClient {
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  config: oidc.Configuration;
}

export async function registerClient(
  server: TestServer,
  opts: {
    name?: string;
    public?: boolean;
    redirectUri?: string;
    postLogout?: string;
    scope?: string;
    authMethod?: 'client_secret_basic' | 'client_secret_post';
    idTokenAlg?: 'RS256' | 'ES256';
    apiScope?: string;
    defaultResource?: string;
    resourceServers?: string[];
  } = {},
): Promise<TestClient> {
  const redirectUri = opts.redirectUri ?? 'https://app.example.test/callback';
  const { client, clientSecret } = await server.runtime.clients.create({
    name: opts.name ?? 'Test App',
    redirectUris: [redirectUri],
    postLogoutRedirectUris: opts.postLogout ? [opts.postLogout] : [],
    public: opts.public,
    scope: opts.scope,
    tokenEndpointAuthMethod: opts.authMethod,
    idTokenAlg: opts.idTokenAlg,
    apiScope: opts.apiScope,
    defaultResource: opts.defaultResource,
    resourceServers: opts.resourceServers,
  });
  return { clientId: client.clientId, clientSecret, redirectUri, config: await discover(server, client.clientId, clientSecret, opts.authMethod) };
}

export async function discover(server: TestServer, clientId: string, secret?: string, authMethod?: string): Promise<oidc.Configuration> {
  const auth = secret === undefined ? oidc.None() : authMethod === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
  return oidc.discovery(new URL(server.issuer), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

export async function createUser(
  server: TestServer,
  email = `person-${Math.random().toString(36).slice(2)}@example.test`,
  password = 'correct horse battery staple',
  name = 'Ada Lovelace',
) {
  const user = await server.runtime.users.create({ email, password, name, emailVerified: true });
  return { ...user, password };
}

/** A raw token-endpoint call with HTTP Basic client authentication, for asserting on refusals. */
export async function postToken(server: TestServer, client: TestClient, form: Record<string, string>, secret = client.clientSecret ?? '') {
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as TokenResponseBody };
}

/** Either a success or an error body; the test asserts which. */
export type TokenResponseBody = Record<string, string> & { error: string; error_description: string; access_token: string };

export type TestPerson = Awaited<ReturnType<typeof createUser>>;

/** The usual suite set-up: a live server with one confidential client and one person. */
export async function serverWithClientAndPerson(clientOpts: Parameters<typeof registerClient>[1] = {}) {
  const server = await startTestServer();
  return { server, client: await registerClient(server, clientOpts), person: await createUser(server) };
}

export interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authRequest(client: TestClient, params: Record<string, string> = {}): Promise<AuthRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(client.config, {
    redirect_uri: client.redirectUri,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

export async function submitLogin(browser: Browser, page: Page, email: string, password: string) {
  return browser.navigate(new URL(formAction(page.html, '/login'), page.url).href, {
    form: { csrf: csrfToken(page.html), email, password },
  });
}

/** One password attempt at the login page of a fresh authorization request, from a new browser. */
export async function attemptLogin(server: TestServer, client: TestClient, email: string, password: string) {
  const browser = new Browser(server.url);
  const req = await authRequest(client);
  req.url.host = new URL(server.url).host;
  return submitLogin(browser, (await browser.navigate(req.url.href)) as Page, email, password);
}

export async function submitConsent(browser: Browser, page: Page) {
  return browser.navigate(new URL(formAction(page.html, '/confirm'), page.url).href, { form: { csrf: csrfToken(page.html) } });
}

/** Walks login and consent as needed; returns the URL the app was sent back to. */
export async function signIn(browser: Browser, req: AuthRequest, creds?: { email: string; password: string }): Promise<URL> {
  let step = await browser.navigate(req.url.href);
  for (let i = 0; i < 4 && !('redirect' in step); i++) {
    const page = step as Page;
    if (page.html.includes('/login"')) {
      assert.ok(creds, 'login page shown but no credentials given');
      step = await submitLogin(browser, page, creds.email, creds.password);
    } else if (page.html.includes('/confirm"')) {
      step = await submitConsent(browser, page);
    } else {
      assert.fail(`unexpected page ${page.status}: ${page.html.slice(0, 300)}`);
    }
  }
  assert.ok('redirect' in step, 'never got back to the app');
  return new URL(step.redirect);
}

export async function codeFlow(client: TestClient, browser: Browser, creds?: { email: string; password: string }, params: Record<string, string> = {}) {
  const req = await authRequest(client, params);
  const callback = await signIn(browser, req, creds);
  const tokens = await oidc.authorizationCodeGrant(client.config, callback, {
    pkceCodeVerifier: req.verifier,
    expectedState: req.state,
    expectedNonce: req.nonce,
    idTokenExpected: true,
  });
  return { tokens, callback, req };
}

export { oidc };
