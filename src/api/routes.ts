// Every operation of the JSON API, and what each scope allows. Features add
// their route lists here (one file per resource under src/api/).
import type { RateLimiters } from '../middleware/koa-rate-limit.ts';
import type { Runtime } from '../runtime.ts';
import type { RouteSpec } from './registry.ts';
import { API_KEYS_SCOPE, meApiKeyRoutes } from './me-api-keys.ts';

/** Scope → what it allows (shown in the OpenAPI document's security scheme). */
export const API_SCOPES: Record<string, string> = {
  [API_KEYS_SCOPE]: "list, create and revoke the signed-in person's own API keys",
};

export function apiRouteList(runtime: Runtime, limits: Pick<RateLimiters, 'person'>): RouteSpec[] {
  return [...meApiKeyRoutes(runtime, limits.person('apiKeys'))];
}
