// The admin API under /admin/api/v1: every administrative operation of the
// CLI over HTTP, for scripts, Terraform providers and a future console. The
// same building blocks as the JSON API (src/api/): zod guard, RFC 9457
// problems, bearer tokens from this server, an OpenAPI 3.1 document from the
// same declarations. Its own audience and scopes:
//   - tokens for the resource $ISSUER/admin/api/v1 (made by `admin bootstrap`)
//   - `latchkey:admin` for everything, `latchkey:admin:read` for reads only
//   - issued to a service account that is still enabled, read from the
//     database on every request (a disabled admin is refused at once, on
//     every node, even with an unexpired token); never a person's token.
import type { Context, Next } from 'koa';
import type { JWK } from 'jose';
import type { Logger } from '../../logger.ts';
import { ADMIN_API_PATH, ADMIN_API_PREFIX, ADMIN_READ_SCOPE, ADMIN_SCOPE, adminApiResource, type Administration } from '../../services/admin/administration.ts';
import type { RateLimiters } from '../../middleware/koa-rate-limit.ts';
import type { ServiceAccountService } from '../../services/machines/service-accounts.ts';
import { createBearerAuth, type BearerAuth } from '../bearer-auth.ts';
import { problemHandler } from '../koa-problem-handler.ts';
import { buildOpenApiDocument } from '../openapi.ts';
import { AppError } from '../../errors.ts';
import { problem } from '../problem.ts';
import { createApiRegistry, type RouteSpec } from '../registry.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { auditRoutes } from './audit.ts';
import { clientRoutes } from './clients.ts';
import { resourceRoutes } from './resources.ts';
import { serviceAccountRoutes } from './service-accounts.ts';
import { signingKeyRoutes } from './signing-keys.ts';
import { importRoutes } from './imports.ts';
import { configRoutes } from './config.ts';
import { configJsonSchema } from '../../services/config/config-file.ts';
import { userRoutes } from './users.ts';

export const ADMIN_OPENAPI_PATH = `${ADMIN_API_PATH}/openapi.json`;
export const ADMIN_CONFIG_SCHEMA_PATH = `${ADMIN_API_PATH}/config.schema.json`;

export const ADMIN_SCOPES: Record<string, string> = {
  [ADMIN_SCOPE]: 'every admin operation: read and change clients, users, service accounts, resources, signing keys',
  [ADMIN_READ_SCOPE]: 'read-only admin operations (lists, shows, the audit trail)',
};

export interface AdminApiDeps {
  issuer: string;
  clockSkew: number;
  log: Logger;
  /** The running provider's public signing keys. */
  keys(): { keys: JWK[] };
  admin: Administration;
  serviceAccounts: ServiceAccountService;
  /** Marks a DPoP proof's jti used (src/services/secrets/replay-guard.ts); false when it was used before. */
  proofUsedOnce(namespace: string, jti: string, forgetAfter: Date): Promise<boolean>;
  /** The per-address failure budget its 401s spend (shared with the protocol endpoints and /api/v1). */
  failureBudget?: RateLimiters['failures'];
}

export function adminRouteList(admin: Administration): RouteSpec[] {
  const deps = { admin };
  // The imports first: `/users/import` must not be read as a user id.
  return [
    ...importRoutes(deps),
    ...clientRoutes(deps),
    ...userRoutes(deps),
    ...serviceAccountRoutes(deps),
    ...resourceRoutes(deps),
    ...apiKeyRoutes(deps),
    ...signingKeyRoutes(deps),
    ...auditRoutes(deps),
    ...configRoutes(deps),
  ];
}

/**
 * `latchkey:admin` also allows what `latchkey:admin:read` does: a read is
 * checked for the full scope first and, failing that (403 only), for the
 * read scope.
 */
function adminScopes(inner: BearerAuth): BearerAuth {
  return {
    async authenticate(ctx, scope) {
      if (scope !== ADMIN_READ_SCOPE) return inner.authenticate(ctx, scope);
      try {
        return await inner.authenticate(ctx, ADMIN_SCOPE);
      } catch (err) {
        if (err instanceof AppError && err.code === 'forbidden') return inner.authenticate(ctx, ADMIN_READ_SCOPE);
        throw err;
      }
    },
  };
}

export function createAdminApi(deps: AdminApiDeps) {
  const resource = adminApiResource(deps.issuer);
  const auth = adminScopes(
    createBearerAuth({
      issuer: deps.issuer,
      audience: resource,
      keys: deps.keys,
      clockSkew: deps.clockSkew,
      realm: 'latchkey-admin',
      // A machine's own token (sub = client_id) from an enabled service account, checked in the database.
      subjectActive: async (caller) => caller.kind === 'client' && (await deps.serviceAccounts.isEnabled(caller.clientId)),
      // Only service accounts' own tokens get this far: the client is the subject checked above.
      clientActive: (clientId) => deps.serviceAccounts.isEnabled(clientId),
      proofUsedOnce: deps.proofUsedOnce,
    }),
  );
  const registry = createApiRegistry(ADMIN_API_PATH, auth);
  registry.add(...adminRouteList(deps.admin));
  let doc: Record<string, unknown> | undefined;
  const document = () =>
    (doc ??= buildOpenApiDocument(registry, {
      title: 'Latchkey admin API',
      version: '1',
      description:
        'Everything the admin CLI does, over HTTP. Lists are paged with `limit` and an opaque ' +
        '`cursor`; reads carry an `ETag` and updates (PATCH) require it in `If-Match` ' +
        '(428 without, 412 when stale). Secrets appear only in the response that creates ' +
        'them. Get the first admin service account with `admin bootstrap` on the server.',
      issuer: deps.issuer,
      resource,
      scopeDescriptions: ADMIN_SCOPES,
    }));
  const errors = problemHandler(ADMIN_API_PREFIX, deps.log);
  const dispatch = registry.middleware();
  // Guessing admin tokens costs the guesser, as on /api/v1.
  const budget = deps.failureBudget?.(
    (err) => err instanceof AppError && err.code === 'unauthorized',
    (detail, retryAfter) => problem.tooManyRequests(detail, retryAfter),
  );
  return {
    registry,
    document,
    middleware: (ctx: Context, next: Next) =>
      errors(ctx, async () => {
        if (ctx.path === ADMIN_OPENAPI_PATH && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
          ctx.set('Cache-Control', 'public, max-age=300');
          ctx.body = document();
          return;
        }
        // The configuration file's schema, for editors: public like the OpenAPI document (it holds no data).
        if (ctx.path === ADMIN_CONFIG_SCHEMA_PATH && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
          ctx.set('Cache-Control', 'public, max-age=300');
          ctx.type = 'application/schema+json';
          ctx.body = JSON.stringify(configJsonSchema());
          return;
        }
        if (ctx.path === ADMIN_API_PREFIX || ctx.path.startsWith(`${ADMIN_API_PREFIX}/`)) {
          const route = () =>
            dispatch(ctx, async () => {
              throw problem.notFound(`no admin API at ${ctx.path}; the operations are under ${ADMIN_API_PATH} (see ${ADMIN_OPENAPI_PATH})`);
            });
          await (budget ? budget(ctx, route) : route());
          return;
        }
        await next();
      }),
  };
}
