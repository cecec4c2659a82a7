// The Koa application: security headers, our pages, then the provider (its
// busiest endpoints straight away: PROVIDER_LANE).
import Koa, { type Context } from 'koa';
import Router from '@koa/router';
import compose from 'koa-compose';
import { databaseKind, migrationsDir } from './db/database.ts';
import { notFound } from './errors.ts';
import { chosenLanguage, languageOf as pageLanguage, languageRoutes } from './middleware/koa-language.ts';
import { withLanguageHints } from './interactions/context.ts';
import type { Metrics } from './metrics.ts';
import { bearerMatches, httpMetrics, metricsEndpoint } from './middleware/koa-metrics.ts';
import { healthz, readyz, type ReadinessDeps } from './middleware/koa-health.ts';
import { interactionRoutes, linkRoutes } from './interactions/routes.ts';
import type { Logger } from './logger.ts';
import { isLoopbackHost } from './config/env.ts';
import { createCsrf } from './middleware/koa-csrf.ts';
import { errorHandler } from './middleware/koa-error-handler.ts';
import { requestLog } from './middleware/koa-request-log.ts';
import { settleWrites } from './middleware/koa-settle-writes.ts';
import { createRateLimiters, type RateLimiters } from './middleware/koa-rate-limit.ts';
import type { Render } from './middleware/koa-render.ts';
import { msg, type Message } from './ui/catalogue.ts';
import { securityHeaders } from './middleware/koa-security-headers.ts';
import { issuerOrigin } from './middleware/koa-issuer-origin.ts';
import { createInteractionApi } from './oidc/interactions.ts';
import type { LiveProvider } from './oidc/live-provider.ts';
import { tokenPreparser } from './oidc/token-preparser.ts';
import { servedRequest } from './oidc/provider-request.ts';
import { claimedCaller } from './oidc/claimed-caller.ts';
import { preparserFailures } from './oidc/token-audit.ts';
import { introspectionExtensions } from './oidc/introspection-extensions.ts';
import { protocolFormBody } from './middleware/koa-body.ts';
import { canonicalPaths } from './middleware/koa-canonical-paths.ts';
import { createAccountSessions } from './oidc/account-session.ts';
import { accountRoutes, landingRoutes } from './account/routes.ts';
import { consoleRoutes } from './console/routes.ts';
import { signInCallback } from './console/sign-in-callback.ts';
import { CONSOLE_CALLBACK, createConsoleSessions } from './oidc/console-session.ts';
import type { Runtime } from './runtime.ts';
import { createApi } from './api/index.ts';
import { API_SCOPES, apiRouteList } from './api/routes.ts';
import { ADMIN_API_PREFIX } from './services/admin/administration.ts';
import { onFirstCall } from './first-call.ts';
import { problemHandler } from './api/koa-problem-handler.ts';
import type { AdminApiDeps } from './api/admin/index.ts';
import { isBuiltInClient } from './services/machines/built-in-clients.ts';
import { markUsedOnce } from './services/secrets/replay-guard.ts';
import { registrationGate } from './oidc/self-registered-clients.ts';

export interface AppDeps {
  runtime: Runtime;
  live: LiveProvider;
  metrics: Metrics;
  render: Render;
  log: Logger;
  cookieKeys: string[];
}

function readiness(runtime: Runtime, live: LiveProvider, log: Logger): ReadinessDeps {
  return {
    db: runtime.db,
    migrationsDir: migrationsDir(databaseKind(runtime.config.databaseUrl)),
    signingKids: () => live.signingKids,
    log,
  };
}

/**
 * The operators' listener (METRICS_PORT, loopback by default): Prometheus
 * metrics, and readiness with the reason a check fails.
 */
export function buildOperationsApp({ runtime, live, log, metrics }: Pick<AppDeps, 'runtime' | 'live' | 'log' | 'metrics'>): Koa {
  const app = new Koa();
  app.silent = true;
  // Bound to loopback, it answers loopback names only: a web page whose own
  // name resolves to 127.0.0.1 (DNS rebinding) cannot read it from a browser.
  if (isLoopbackHost(runtime.config.metricsHost)) {
    app.use(async (ctx, next) => {
      if (!isLoopbackHost(ctx.hostname)) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: "address the operators' listener by a loopback name" };
        return;
      }
      await next();
    });
  }
  const router = new Router();
  router.get('/metrics', metricsEndpoint(metrics, runtime.config.metricsToken));
  router.get('/healthz', healthz);
  router.get('/readyz', async (ctx) => {
    if (!bearerMatches(ctx, runtime.config.metricsToken)) {
      ctx.status = 401;
      ctx.body = { error: 'unauthorized' };
      return;
    }
    return readyz(readiness(runtime, live, log), { detailed: true })(ctx);
  });
  app.use(router.routes());
  return app;
}

/**
 * What every public listener starts with: the cookie keys, the proxy trust,
 * one request log line, metrics, security headers, requests addressed to
 * `origin` only, errors as pages or JSON, and no response before the
 * request's token writes are made.
 */
export function listenerApp(deps: Pick<AppDeps, 'runtime' | 'render' | 'log' | 'cookieKeys' | 'metrics'>, origin: string): Koa {
  const { runtime, render, log, cookieKeys, metrics } = deps;
  const app = new Koa();
  app.keys = cookieKeys;
  app.proxy = runtime.config.trustProxy;
  // Behind a proxy, the client is the address the proxy appended last, not
  // whatever the client wrote into X-Forwarded-For itself.
  app.maxIpsCount = 1;
  app.silent = true;
  app.use(requestLog(log));
  app.use(servedRequest());
  app.use(httpMetrics(metrics));
  app.use(securityHeaders({ hsts: origin.startsWith('https://') }));
  app.use(issuerOrigin(origin, render));
  app.use(errorHandler(log, render));
  app.use(settleWrites(runtime.settleWrites, log));
  return app;
}

export function buildApp(deps: AppDeps): Koa {
  const { runtime, render, log } = deps;
  const { config } = runtime;
  // The provider runs in this app's context under koa-mount: same keys, same proxy trust.
  const app = listenerApp(deps, config.issuer);
  const limits = createRateLimiters(runtime.db, config.rateLimits, log, render, claimedCaller);
  const protocol = protocolChain(deps, limits);
  app.use(providerLane(protocol));
  app.use(siteRoutes(deps).routes());
  app.use(languageRoutes(runtime.ui, config.secureCookies).routes());
  useJsonApis(app, deps, limits);
  usePages(app, deps, limits);
  app.use(protocol);
  assertLaneUnclaimed(app.middleware);
  return app;
}

/** The provider's token endpoints (its defaults), whose requests our middleware reads before it. */
const TOKEN_PATH = '/token';
const INTROSPECTION_PATH = '/token/introspection';
const REVOCATION_PATH = '/token/revocation';
const JWKS_PATH = '/jwks';
const TOKEN_PATHS = [TOKEN_PATH, INTROSPECTION_PATH, REVOCATION_PATH];

/**
 * The provider's busiest endpoints, with the methods they answer. No page or
 * API lives at these addresses, so their requests go straight to the
 * protocol's middleware instead of being offered first to every router of
 * the pages and APIs (a match over each one's routes, a promise per router):
 * 1–8 % more token and introspection requests a second, measured in pairs
 * on this machine, whose noise is about ±6 % (bench/README.md, "Stop 45").
 * Any other method at these addresses (a CORS preflight, a GET of the token
 * endpoint) takes the long way, and is answered as before.
 */
export const PROVIDER_LANE: ReadonlyMap<string, readonly string[]> = new Map([
  [TOKEN_PATH, ['POST']],
  [INTROSPECTION_PATH, ['POST']],
  [REVOCATION_PATH, ['POST']],
  ['/me', ['GET', 'POST']],
  [JWKS_PATH, ['GET']],
  ['/.well-known/openid-configuration', ['GET']],
]);

/**
 * The lane itself. The protocol's middleware was the app's last, so nothing
 * ran after it: on the lane it ends the request too, as before, instead of
 * handing it on to the pages (and to the protocol a second time).
 */
export function providerLane(protocol: Koa.Middleware): Koa.Middleware {
  const end = () => Promise.resolve();
  return (ctx, next) => (PROVIDER_LANE.get(ctx.path)?.includes(ctx.method) ? protocol(ctx, end) : next());
}

/**
 * Throws when a router mounted on the app has a route for a request of the
 * provider's lane: that route would never be reached. Run at every start
 * (a few dozen matches), so that a page added at such an address fails the
 * tests instead of silently never answering.
 */
export function assertLaneUnclaimed(middleware: readonly unknown[]): void {
  for (const mw of middleware) {
    const router = (mw as { router?: Router }).router;
    if (!router) continue;
    for (const [path, methods] of PROVIDER_LANE) {
      for (const method of methods) {
        if (router.match(path, method).route) throw new Error(`${method} ${path} belongs to the provider's lane (src/app.ts), but a router answers it too`);
      }
    }
  }
}

/** The built-in assets, the theme's, the brand's stylesheet and logo (src/ui/ui.ts), read once at start-up. */
function serveAsset(runtime: AppDeps['runtime']) {
  return (ctx: Koa.Context) => {
    const asset = runtime.ui.assets.get(String(ctx.params.file));
    if (!asset) throw notFound('That file');
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    // An SVG opened on its own is a document: it runs nothing, and loads only from here.
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'");
    ctx.body = asset.body;
  };
}

/** The stylesheet, the passkey script, health and readiness (and metrics, when they share the main port). */
function siteRoutes({ runtime, live, log, metrics }: AppDeps): Router {
  const { config } = runtime;
  const site = new Router();
  site.get('/assets/{*file}', serveAsset(runtime));
  site.get('/healthz', healthz);
  site.get('/readyz', readyz(readiness(runtime, live, log), { detailed: false }));
  if (config.metricsOnMainPort) site.get('/metrics', metricsEndpoint(metrics, config.metricsToken));
  return site;
}

/** Latchkey's JSON API (/api/v1) and the admin API (/admin/api/v1), each answering RFC 9457 problems. */
function useJsonApis(app: Koa, { runtime, live, log }: AppDeps, limits: RateLimiters): void {
  const { config } = runtime;
  const proofUsedOnce = (namespace: string, jti: string, forgetAfter: Date) => markUsedOnce(runtime.artifacts, namespace, jti, forgetAfter);
  const api = createApi({
    config,
    log,
    keys: () => live.publicJwks,
    async subjectActive(caller) {
      if (caller.kind === 'person') return (await runtime.users.findActive(caller.subject)) !== undefined;
      return (await runtime.clients.findForProvider(caller.subject)) !== undefined;
    },
    // From the clients cache: a deletion or disabling is seen at once on the
    // node that made it and within CHECK_EVERY_MS (250 ms) on every other.
    async clientActive(clientId) {
      return isBuiltInClient(clientId) || (await runtime.clients.findForProvider(clientId)) !== undefined;
    },
    proofUsedOnce,
    routes: apiRouteList(runtime, limits),
    scopeDescriptions: API_SCOPES,
    failureBudget: limits.failures,
  });
  app.use(api.middleware);
  app.use(
    adminApiOnFirstUse({
      issuer: config.issuer,
      clockSkew: config.clockSkew,
      log,
      keys: () => live.publicJwks,
      admin: runtime.admin,
      serviceAccounts: runtime.serviceAccounts,
      proofUsedOnce,
      failureBudget: limits.failures,
    }),
  );
}

/**
 * The admin API, built by its first request: its route table and shapes (some
 * 1,100 zod schemas with the configuration file's and the imports', 2 MB of a
 * start) serve operators' scripts, which most nodes never see (bench/README.md,
 * "Stop 42"). Other paths pass by with one comparison. Its route table's own
 * checks (a path or operation declared twice) run then too; the admin API's
 * tests build it on every run. A build that fails is answered as the API
 * answers its errors, with a problem document.
 */
function adminApiOnFirstUse(deps: AdminApiDeps): Koa.Middleware {
  const adminApi = onFirstCall(async () => (await import('./api/admin/index.ts')).createAdminApi(deps).middleware);
  const errors = problemHandler(ADMIN_API_PREFIX, deps.log);
  return async (ctx, next) => {
    if (ctx.path !== ADMIN_API_PREFIX && !ctx.path.startsWith(`${ADMIN_API_PREFIX}/`)) return next();
    return errors(ctx, async () => (await adminApi())(ctx, next));
  };
}

/** The sign-in pages, the pages opened from mailed links, the account page and the landing page. */
function usePages(app: Koa, { runtime, live, render }: AppDeps, limits: RateLimiters): void {
  const { config } = runtime;
  const csrf = createCsrf(config.secureCookies);
  const settings = {
    registration: config.registration,
    requireVerifiedEmail: config.requireVerifiedEmail,
    mailEnabled: config.mailEnabled,
    secureCookies: config.secureCookies,
  };
  const languageOf = (ctx: Context) => pageLanguage(runtime.ui, ctx);
  const chosen = (ctx: Context) => chosenLanguage(runtime.ui, ctx);
  const interactionDeps = {
    interactions: withLanguageHints(createInteractionApi(() => live.current)),
    languageOf,
    chosenLanguage: chosen,
    users: runtime.users,
    signIn: runtime.signIn,
    secondFactor: runtime.secondFactor,
    loginState: runtime.loginState,
    audit: runtime.audit,
    accountLinks: runtime.accountLinks,
    passkeys: runtime.passkeys,
    settings,
    csrf,
    render,
    clock: runtime.clock,
  };
  const interactions = interactionRoutes(interactionDeps, limits);
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());
  const links = linkRoutes(interactionDeps, limits);
  app.use(links.routes());
  app.use(links.allowedMethods());

  const accountDeps = {
    sessions: createAccountSessions(() => live.current, runtime.sessions, runtime.artifactIdKey),
    users: runtime.users,
    signIn: runtime.signIn,
    secondFactor: runtime.secondFactor,
    audit: runtime.audit,
    passkeys: runtime.passkeys,
    accountLinks: runtime.accountLinks,
    settings,
    apiKeys: runtime.apiKeys,
    csrf,
    render,
    languages: runtime.ui.catalogue.languages,
    languageOf,
    say: (ctx: Context, message: Message) => runtime.ui.catalogue.text(languageOf(ctx), message.key, message.params),
    clock: runtime.clock,
  };
  const account = accountRoutes(accountDeps, limits);
  app.use(account.routes());
  app.use(account.allowedMethods());
  app.use(landingRoutes(accountDeps).routes());
  // The admin console (src/console/): the same sign-in and CSRF as the account pages, the administration service underneath
  // — unless it has a listener of its own (ADMIN_CONSOLE_PORT, buildConsoleApp): then /admin here answers 404.
  if (!config.console.listener) {
    const consoleDeps = { ...consoleDepsOf(runtime, render), sessions: accountDeps.sessions, accountUrl: '/account', csrf };
    app.use(consoleRoutes(consoleDeps, limits).routes());
  }
}

function consoleDepsOf(runtime: Runtime, render: Render) {
  const { config } = runtime;
  return {
    admin: runtime.admin,
    users: runtime.users,
    clock: runtime.clock,
    settings: config.console,
    keyRotationDelay: config.keyRotationDelay,
    effectiveSettings: config.settings,
    render,
  };
}

/**
 * The admin console on a listener of its own (ADMIN_CONSOLE_PORT, loopback by
 * default): the console's pages, their assets and the language switch, and
 * nothing else. Signing in happens on the issuer's pages and comes back to
 * /admin/callback; the console then keeps its own cookie on its own origin
 * (src/oidc/console-session.ts).
 */
export function buildConsoleApp({ runtime, live, render, log, cookieKeys, metrics }: AppDeps): Koa {
  const { config } = runtime;
  const listener = config.console.listener!;
  const secure = listener.url.startsWith('https://');
  // Addressed by its own name only (a page whose name resolves to it — DNS rebinding — is refused).
  const app = listenerApp({ runtime, render, log, cookieKeys, metrics }, listener.url);
  const site = new Router();
  site.get('/assets/{*file}', serveAsset(runtime));
  site.get('/', (ctx) => {
    ctx.status = 303;
    ctx.redirect('/admin');
  });
  const sessions = createConsoleSessions(() => live.current, { url: listener.url, idKey: runtime.artifactIdKey });
  site.get(CONSOLE_CALLBACK, signInCallback(sessions.finishSignIn, render));
  app.use(site.routes());
  app.use(languageRoutes(runtime.ui, secure).routes());
  const limits = createRateLimiters(runtime.db, config.rateLimits, log, render, claimedCaller);
  const consoleDeps = { ...consoleDepsOf(runtime, render), sessions, accountUrl: `${config.issuer}/account`, csrf: createCsrf(secure) };
  app.use(consoleRoutes(consoleDeps, limits).routes());
  app.use(async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body == null && ctx.method === 'GET') {
      render(ctx, 'error', { message: msg('error.notFound'), code: 'not_found', back: { href: '/admin', label: msg('common.backToStart') } }, 404);
    }
  });
  return app;
}

/** The OAuth/OpenID Connect endpoints: their rate limits and body parsing, our extensions, then the provider; one middleware. */
function protocolChain({ runtime, live, render }: AppDeps, limits: RateLimiters): Koa.Middleware {
  const { config } = runtime;
  const protocol = new Router();
  // Requests that may store something for an anonymous caller (a sign-in in
  // progress, a pushed request, a logout's state): bounded per address.
  for (const path of ['/auth', '/request', '/session/end']) {
    protocol.get(path, limits.page('authorize'));
    protocol.post(path, limits.page('authorize'));
  }
  // The device page: user codes typed and confirmed, counted per address on every node.
  protocol.post('/device', limits.page('device'));
  // Each device authorization stores a pending code for whoever asks: bounded per address.
  protocol.post('/device/auth', limits.addressJson('authorize'));
  // Each registration stores a client for whoever asks: bounded per address, and gated by a token when so configured.
  protocol.post('/reg', limits.addressJson('authorize'), registrationGate(config, runtime.registrationTokens));
  protocol.post(TOKEN_PATH, limits.protocol('token'));
  protocol.post(REVOCATION_PATH, limits.protocol('token'));
  protocol.post(INTROSPECTION_PATH, limits.protocol('introspection'));
  protocol.get(JWKS_PATH, async (ctx, next) => {
    await next();
    if (ctx.status === 200) ctx.set('Cache-Control', `public, max-age=${config.jwksMaxAge}`);
  });
  const routes = protocol.routes();
  const chain: Koa.Middleware[] = [
    // Before anything reads the path: /Token/ is the provider's /token, and must be ours too.
    canonicalPaths(TOKEN_PATHS),
    protocolFormBody(TOKEN_PATHS),
    // The router sets the params and router it declares on the context itself.
    (ctx, next) => routes(ctx as Parameters<typeof routes>[0], next),
    tokenPreparser(TOKEN_PATH, preparserFailures(runtime.tokenUsage)),
    introspectionExtensions(INTROSPECTION_PATH, {
      issuer: config.issuer,
      apiKeys: runtime.apiKeys,
      serviceAccounts: runtime.serviceAccounts,
      resources: runtime.resources,
      format: config.apiKeys,
      clockSkew: config.clockSkew,
      provider: () => live.current,
    }),
    // An address nothing answered: a browser gets a page (titled, in its language, with a way back), not Koa's bare "Not Found".
    async (ctx, next) => {
      await next();
      if (ctx.status === 404 && ctx.body == null && ctx.method === 'GET' && ctx.accepts('html', 'json') === 'html') {
        render(ctx, 'error', { message: msg('error.notFound'), code: 'not_found', back: { href: '/', label: msg('common.backToStart') } }, 404);
      }
    },
    (ctx, next) => live.middleware(ctx, next),
  ];
  return compose(chain);
}
