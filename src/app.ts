// The Koa application: security headers, our pages, then the provider.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import { databaseKind, migrationsDir, projectRoot } from './db/database.ts';
import type { Metrics } from './metrics.ts';
import { httpMetrics, metricsEndpoint } from './middleware/koa-metrics.ts';
import { databaseChecks } from './services/readiness.ts';
import { interactionRoutes } from './interactions/routes.ts';
import type { Logger } from './logger.ts';
import { createCsrf } from './middleware/koa-csrf.ts';
import { errorHandler } from './middleware/koa-error-handler.ts';
import { requestLog } from './middleware/koa-request-log.ts';
import { createRateLimiters } from './middleware/koa-rate-limit.ts';
import type { Render } from './middleware/koa-render.ts';
import { securityHeaders } from './middleware/koa-security-headers.ts';
import { issuerOrigin } from './middleware/koa-issuer-origin.ts';
import { createInteractionApi } from './oidc/interactions.ts';
import type { LiveProvider } from './oidc/live-provider.ts';
import { tokenPreparser } from './oidc/token-preparser.ts';
import { createAccountSessions } from './oidc/account-session.ts';
import { accountRoutes } from './account/routes.ts';
import type { Runtime } from './runtime.ts';

export interface AppDeps {
  runtime: Runtime;
  live: LiveProvider;
  metrics: Metrics;
  render: Render;
  log: Logger;
  cookieKeys: string[];
}

export function buildApp({ runtime, live, render, log, cookieKeys, metrics }: AppDeps): Koa {
  const { config } = runtime;
  const app = new Koa();
  // The provider runs in this app's context under koa-mount: same keys, same proxy trust.
  app.keys = cookieKeys;
  app.proxy = config.trustProxy;
  // Behind a proxy, the client is the address the proxy appended last, not
  // whatever the client wrote into X-Forwarded-For itself.
  app.maxIpsCount = 1;
  app.silent = true;

  app.use(requestLog(log));
  app.use(httpMetrics(metrics));
  app.use(securityHeaders({ hsts: config.issuer.startsWith('https://') }));
  app.use(issuerOrigin(config.issuer, render));
  app.use(errorHandler(log, render));

  const stylesheet = readFileSync(join(projectRoot, 'views', 'assets', 'style.css'));
  const site = new Router();
  site.get('/assets/style.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });
  site.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  const migrations = migrationsDir(databaseKind(config.databaseUrl));
  site.get('/readyz', async (ctx) => {
    const checks = {
      ...(await databaseChecks(runtime.db, migrations)),
      signing_key: live.signingKids.length ? { ok: true, detail: live.signingKids.join(', ') } : { ok: false, detail: 'no active signing key' },
    };
    const ready = Object.values(checks).every((c) => c.ok);
    ctx.status = ready ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks };
  });
  if (!config.metricsPort) site.get('/metrics', metricsEndpoint(metrics, config.metricsToken));
  app.use(site.routes());

  const limits = createRateLimiters(runtime.db, config.rateLimits, log, render);
  const csrf = createCsrf(config.secureCookies);
  const interactions = interactionRoutes(
    {
      interactions: createInteractionApi(() => live.current),
      users: runtime.users,
      signIn: runtime.signIn,
      secondFactor: runtime.secondFactor,
      loginState: runtime.loginState,
      audit: runtime.audit,
      csrf,
      render,
    },
    limits,
  );
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());

  const account = accountRoutes(
    {
      sessions: createAccountSessions(() => live.current, runtime.db),
      users: runtime.users,
      signIn: runtime.signIn,
      secondFactor: runtime.secondFactor,
      audit: runtime.audit,
      csrf,
      render,
    },
    limits,
  );
  app.use(account.routes());
  app.use(account.allowedMethods());

  const protocol = new Router();
  protocol.post('/token', limits.api('token'));
  protocol.post('/token/introspection', limits.api('introspection'));
  protocol.get('/jwks', async (ctx, next) => {
    await next();
    if (ctx.status === 200) ctx.set('Cache-Control', `public, max-age=${config.jwksMaxAge}`);
  });
  app.use(protocol.routes());
  app.use(tokenPreparser('/token'));
  app.use((ctx, next) => live.middleware(ctx, next));
  return app;
}
