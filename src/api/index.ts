// Latchkey's JSON API under /api/v1: bearer authentication with our own JWT
// access tokens (audience API_RESOURCE), zod-validated input, RFC 9457
// errors, and an OpenAPI 3.1 document generated from the same declarations
// at /api/v1/openapi.json.
import type { Context, Next } from 'koa';
import type { JWK } from 'jose';
import type { Config } from '../config/env.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiters } from '../middleware/koa-rate-limit.ts';
import { createBearerAuth, type ApiCaller } from './bearer-auth.ts';
import { problemHandler } from './koa-problem-handler.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { AppError } from '../errors.ts';
import { problem } from './problem.ts';
import { createApiRegistry, type ApiRegistry, type RouteSpec } from './registry.ts';

export const API_PREFIX = '/api';
export const API_BASE = '/api/v1';
export const OPENAPI_PATH = `${API_BASE}/openapi.json`;

export interface ApiDeps {
  config: Pick<Config, 'issuer' | 'apiResource' | 'clockSkew'>;
  log: Logger;
  /** The running provider's public signing keys (LiveProvider.publicJwks). */
  keys(): { keys: JWK[] };
  /** Whether a token's subject (a person, or a client acting for itself) is still enabled. */
  subjectActive(caller: ApiCaller): Promise<boolean>;
  /** Whether the client a person's token was issued to still exists and is enabled. */
  clientActive(clientId: string): Promise<boolean>;
  /** Marks a DPoP proof's jti used (src/services/secrets/replay-guard.ts); false when it was used before. */
  proofUsedOnce(namespace: string, jti: string, forgetAfter: Date): Promise<boolean>;
  routes: RouteSpec[];
  scopeDescriptions?: Record<string, string>;
  /** The per-address failure budget its 401s spend (the protocol endpoints' own). */
  failureBudget?: RateLimiters['failures'];
}

export interface Api {
  registry: ApiRegistry;
  middleware(ctx: Context, next: Next): Promise<void>;
  document(): Record<string, unknown>;
}

export function createApi(deps: ApiDeps): Api {
  const { config } = deps;
  const auth = createBearerAuth({
    issuer: config.issuer,
    audience: config.apiResource,
    keys: deps.keys,
    subjectActive: deps.subjectActive,
    clientActive: deps.clientActive,
    proofUsedOnce: deps.proofUsedOnce,
    clockSkew: config.clockSkew,
  });
  const registry = createApiRegistry(API_BASE, auth);
  registry.add(...deps.routes);
  const undescribed = registry.scopes().filter((s) => !deps.scopeDescriptions?.[s]);
  if (undescribed.length) throw new Error(`API scopes without a description: ${undescribed.join(', ')}`);
  let doc: Record<string, unknown> | undefined;
  const document = () =>
    (doc ??= buildOpenApiDocument(registry, {
      title: 'Latchkey API',
      version: '1',
      issuer: config.issuer,
      resource: config.apiResource,
      scopeDescriptions: deps.scopeDescriptions,
    }));
  const errors = problemHandler(API_PREFIX, deps.log);
  const dispatch = registry.middleware();
  // Guessing tokens costs the guesser: a 401 is a failure like a failed client authentication.
  const budget = deps.failureBudget?.(
    (err) => err instanceof AppError && err.code === 'unauthorized',
    (detail, retryAfter) => problem.tooManyRequests(detail, retryAfter),
  );
  const notFound = (ctx: Context) => async () => {
    throw problem.notFound(`no API at ${ctx.path}; the operations are under ${API_BASE} (see ${OPENAPI_PATH})`);
  };
  return {
    registry,
    document,
    middleware: (ctx, next) =>
      errors(ctx, async () => {
        if (ctx.path === OPENAPI_PATH && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
          ctx.set('Cache-Control', 'public, max-age=300');
          ctx.body = document();
          return;
        }
        if (ctx.path === API_PREFIX || ctx.path.startsWith(`${API_PREFIX}/`)) {
          if (budget) await budget(ctx, () => dispatch(ctx, notFound(ctx)));
          else await dispatch(ctx, notFound(ctx));
          // Nothing under the prefix falls through to pages or the provider.
          return;
        }
        await next();
      }),
  };
}
