// The Koa application: security headers, our pages, then the provider.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';
import { projectRoot } from './db/database.ts';
import { interactionRoutes } from './interactions/routes.ts';
import type { Logger } from './logger.ts';
import { createCsrf } from './middleware/koa-csrf.ts';
import { errorHandler } from './middleware/koa-error-handler.ts';
import { requestLog } from './middleware/koa-request-log.ts';
import { createRateLimiters } from './middleware/koa-rate-limit.ts';
import type { Render } from './middleware/koa-render.ts';
import { securityHeaders } from './middleware/koa-security-headers.ts';
import { createInteractionApi } from './oidc/interactions.ts';
import { tokenPreparser } from './oidc/token-preparser.ts';
import { createAccountSessions } from './oidc/account-session.ts';
import { accountRoutes } from './account/routes.ts';
import type { Runtime } from './runtime.ts';

export interface AppDeps {
  runtime: Runtime;
  provider: Provider;
  render: Render;
  log: Logger;
  cookieKeys: string[];
}

export function buildApp({ runtime, provider, render, log, cookieKeys }: AppDeps): Koa {
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
  app.use(securityHeaders({ hsts: config.issuer.startsWith('https://') }));
  app.use(errorHandler(log, render));

  const stylesheet = readFileSync(join(projectRoot, 'views', 'assets', 'style.css'));
  const site = new Router();
  site.get('/assets/style.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });
  site.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  app.use(site.routes());

  const limits = createRateLimiters(runtime.db, config.rateLimits, log, render);
  const csrf = createCsrf(config.secureCookies);
  const interactions = interactionRoutes(
    {
      interactions: createInteractionApi(provider),
      users: runtime.users,
      signIn: runtime.signIn,
      secondFactor: runtime.secondFactor,
      loginState: runtime.loginState,
      audit: runtime.audit,
      csrf,
      render,
      log,
    },
    limits,
  );
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());

  const account = accountRoutes(
    {
      sessions: createAccountSessions(provider, runtime.db),
      users: runtime.users,
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
  app.use(protocol.routes());
  app.use(tokenPreparser('/token'));
  app.use(mount(provider));
  return app;
}
