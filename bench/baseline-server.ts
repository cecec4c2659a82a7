// The "library alone" reference: bare oidc-provider with its built-in
// in-memory adapter and the relevant parts of src/oidc/configuration.ts
// restated (PKCE S256 required, resource indicators, client credentials,
// introspection, revocation, userinfo, refresh rotation, refresh tokens only
// with offline_access, the same TTLs, RS256 and ES256 signing keys), the
// same clients as static configuration, a minimal jwt-bearer grant and
// minimal login and consent pages. Lean, but doing the same cryptographic
// work per request: signatures, bcrypt at the configured cost, PKCE.
//
// Run as a child process by bench/run.ts: env BASELINE_FIXTURE (JSON file,
// see bench/setup.ts), PORT, ISSUER and Latchkey's own variables for TTLs,
// BCRYPT_COST and CLOCK_SKEW (read through the same loadConfig).
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bcrypt from 'bcrypt';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK } from 'jose';
import Provider, { errors, type Adapter, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { loadConfig } from '../src/config/env.ts';
import { API_JWT, API_OPAQUE, API_SCOPE, type Fixture } from './setup.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_API_SCOPE = 'latchkey_api_scope';
const config = loadConfig(process.env);
const fixture = JSON.parse(readFileSync(process.env.BASELINE_FIXTURE!, 'utf8')) as Fixture;

const resources: Record<string, { scope: string; format: 'jwt' | 'opaque' }> = {
  [API_JWT]: { scope: API_SCOPE, format: 'jwt' },
  [API_OPAQUE]: { scope: 'api.read', format: 'opaque' },
};

async function signingKeys(): Promise<JWK[]> {
  const keys: JWK[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
    keys.push({ ...(await exportJWK(privateKey)), kid: `baseline-${alg}`, alg, use: 'sig' });
  }
  return keys;
}

// People: the same bcrypt cost as Latchkey's, hashed once at start.
const people = new Map<string, { id: string; email: string; name: string; hash: string }>();
for (const [i, p] of fixture.people.entries()) {
  people.set(p.email, { id: p.id, email: p.email, name: `Person ${i}`, hash: await bcrypt.hash(p.password, config.bcryptCost) });
}
const byId = new Map([...people.values()].map((p) => [p.id, p]));

const appClient = (c: Fixture['app'], alg: 'RS256' | 'ES256'): ClientMetadata => ({
  client_id: c.clientId,
  client_secret: c.clientSecret,
  redirect_uris: [c.redirectUri],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  scope: 'openid profile email offline_access',
  id_token_signed_response_alg: alg,
});

const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: false, signed: true };
const configuration: Configuration = {
  jwks: { keys: (await signingKeys()) as NonNullable<Configuration['jwks']>['keys'] },
  cookies: { keys: [randomBytes(32).toString('base64url')], long: cookie, short: cookie },
  clients: [
    appClient(fixture.app, 'RS256'),
    appClient(fixture.appEs256, 'ES256'),
    {
      client_id: fixture.machine.clientId,
      client_secret: fixture.machine.clientSecret,
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      [CLIENT_API_SCOPE]: API_SCOPE,
    },
    {
      client_id: fixture.serviceAccount.clientId,
      redirect_uris: [],
      response_types: [],
      grant_types: [JWT_BEARER],
      token_endpoint_auth_method: 'none',
      [CLIENT_API_SCOPE]: fixture.serviceAccount.scope,
    },
  ],
  async findAccount(_ctx, sub) {
    const p = byId.get(sub);
    if (!p) return undefined;
    return { accountId: p.id, claims: async () => ({ sub: p.id, email: p.email, email_verified: true, name: p.name }) };
  },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: { openid: ['sub', 'amr', 'acr'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  pkce: { required: () => true },
  allowOmittingSingleRegisteredRedirectUri: false,
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'] },
  extraClientMetadata: { properties: [CLIENT_API_SCOPE] },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
    require_auth_time: true,
    token_endpoint_auth_method: 'client_secret_basic',
  },
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  rotateRefreshToken: true,
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(oidc.client!.clientId);
    return grantId ? oidc.provider.Grant.find(grantId) : undefined;
  },
  ttl: {
    AccessToken: config.ttl.accessToken,
    AuthorizationCode: config.ttl.authorizationCode,
    IdToken: config.ttl.idToken,
    RefreshToken: config.ttl.refreshToken,
    Interaction: config.ttl.interaction,
    Session: config.ttl.session,
    Grant: config.ttl.refreshToken,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      getResourceServerInfo: (_ctx, indicator, client) => {
        const rs = resources[indicator];
        if (!rs) throw new errors.InvalidTarget(`resource '${indicator}' is not registered`);
        const clientScope = client.metadata()[CLIENT_API_SCOPE];
        const allowed = typeof clientScope === 'string' ? clientScope.split(' ') : undefined;
        return {
          audience: indicator,
          scope: rs.scope
            .split(' ')
            .filter((s) => !allowed || allowed.includes(s))
            .join(' '),
          accessTokenTTL: 3600,
          accessTokenFormat: rs.format,
          ...(rs.format === 'jwt' ? { jwt: { sign: { alg: 'RS256' as const } } } : {}),
        };
      },
      useGrantedResource: async () => true,
    },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
};

// The built-in in-memory adapter keeps everything in an LRU of 1,000
// entries: under load, tokens push people's sessions out and SSO flows turn
// into logins. Same adapter class, given a store large enough for a run.
const memoryAdapter = 'oidc-provider/lib/adapters/memory_adapter.js';
const lru = 'oidc-provider/lib/helpers/lru.js';
const { default: MemoryAdapter } = (await import(memoryAdapter)) as { default: new (model: string, store: unknown, clockTolerance: number) => Adapter };
const { default: LRU } = (await import(lru)) as { default: new (o: { maxSize: number }) => unknown };
const store = new LRU({ maxSize: 50_000_000 });
configuration.adapter = (model: string) => new MemoryAdapter(model, store, 0);

const issuer = process.env.ISSUER!;
const provider = new Provider(issuer, configuration);

// A minimal but honest jwt-bearer grant: signature against the account's
// key, iss/sub, aud, exp/iat lifetime, jti single use, scope, resource.
const accountKey = await importJWK(fixture.serviceAccount.publicJwk, 'ES256');
const usedJtis = new Map<string, number>();
const tokenEndpoint = `${issuer}/token`;
provider.registerGrantType(
  JWT_BEARER,
  async (ctx: KoaContextWithOIDC) => {
    const { client, params, provider: p } = ctx.oidc;
    const refuse = (d: string) => new errors.CustomOIDCProviderError('invalid_grant', d);
    if (!client || !params || client.clientId !== fixture.serviceAccount.clientId) throw refuse('not a service account');
    let payload;
    try {
      ({ payload } = await jwtVerify(String(params.assertion), accountKey, {
        algorithms: ['ES256'],
        issuer: client.clientId,
        subject: client.clientId,
        audience: [issuer, tokenEndpoint],
        clockTolerance: config.clockSkew,
        requiredClaims: ['exp', 'jti'],
        maxTokenAge: config.assertionMaxLifetime,
      }));
    } catch (err) {
      throw refuse(`assertion refused: ${(err as Error).message}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (usedJtis.size > 100_000) for (const [k, exp] of usedJtis) if (exp < now) usedJtis.delete(k);
    if (usedJtis.has(payload.jti!)) throw refuse('jti already used');
    usedJtis.set(payload.jti!, payload.exp! + config.clockSkew);
    const requested = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [];
    for (const s of requested) if (!fixture.serviceAccount.scope.split(' ').includes(s)) throw new errors.InvalidScope('scope not allowed', s);
    const token = new p.ClientCredentials({ client, scope: requested.join(' ') || fixture.serviceAccount.scope });
    const resource = params.resource as string | undefined;
    if (resource) {
      const info = await configuration.features!.resourceIndicators!.getResourceServerInfo!(ctx, resource, client);
      token.resourceServer = new p.ResourceServer(resource, info);
    }
    ctx.oidc.entity('ClientCredentials', token);
    const value = await token.save();
    ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
  },
  ['assertion', 'scope', 'resource'],
);

// Interaction pages: a login form (double-submit CSRF like Latchkey's) and
// a consent form, with no templates, database or audit behind them.
async function formBody(ctx: { req: NodeJS.ReadableStream }): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const page = (uid: string, csrf: string, step: 'login' | 'confirm') =>
  `<!doctype html><title>${step}</title><form method="post" action="/interaction/${uid}/${step}">` +
  `<input type="hidden" name="csrf" value="${csrf}">` +
  (step === 'login' ? '<input name="email"><input name="password" type="password">' : '') +
  '<button>Continue</button></form>';

provider.use(async (ctx, next) => {
  if (ctx.path === '/healthz') {
    ctx.body = { status: 'ok' };
    return;
  }
  const m = /^\/interaction\/([^/]+)(?:\/(login|confirm))?$/.exec(ctx.path);
  if (!m) return next();
  const [, uid, action] = m;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  if (!action && ctx.method === 'GET') {
    let csrf = ctx.cookies.get('bl_csrf');
    if (!csrf) {
      csrf = randomBytes(32).toString('base64url');
      ctx.cookies.set('bl_csrf', csrf, { httpOnly: true, sameSite: 'lax', signed: false });
    }
    ctx.type = 'html';
    ctx.body = page(uid!, csrf, details.prompt.name === 'login' ? 'login' : 'confirm');
    return;
  }
  if (ctx.method !== 'POST') return next();
  const form = await formBody(ctx);
  if (!form.get('csrf') || form.get('csrf') !== ctx.cookies.get('bl_csrf')) ctx.throw(403, 'csrf');
  let result;
  if (action === 'login') {
    const person = people.get(String(form.get('email')).trim().toLowerCase());
    // The async API: bcrypt on libuv's pool, never on the event loop.
    if (!person || !(await bcrypt.compare(String(form.get('password')), person.hash))) {
      ctx.status = 401;
      ctx.body = 'The email or password is not correct.';
      return;
    }
    result = { login: { accountId: person.id, amr: ['pwd'], acr: 'urn:latchkey:acr:pwd', remember: true } };
  } else {
    const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
    if (!grant) return ctx.throw(400, 'grant gone');
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    result = { consent: { grantId: await grant.save() } };
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: action === 'confirm' });
  ctx.status = 303;
  ctx.redirect(returnTo);
});

const server = createServer(provider.callback());
server.listen(config.port, config.host, () => console.error('baseline is ready'));
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
