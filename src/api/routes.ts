// Every operation of the JSON API, and what each scope allows. Features add
// their route lists here (one file per resource under src/api/).
import type { Runtime } from '../runtime.ts';
import type { RouteSpec } from './registry.ts';

/** Scope → what it allows (shown in the OpenAPI document's security scheme). */
export const API_SCOPES: Record<string, string> = {};

export function apiRouteList(_runtime: Runtime): RouteSpec[] {
  return [];
}
