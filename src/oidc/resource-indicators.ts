// RFC 8707 resource indicators: registered API resources become audiences of
// access tokens, in the format and lifetime the resource asked for, carrying
// only the scopes the client was granted (src/services/api-access.ts).
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { decideScopes, splitScope, allowedAt } from '../services/api-access.ts';
import type { ResourceServerRecord, ResourceServerService } from '../services/resource-servers.ts';

/** Extra client metadata (see extraClientMetadata): the API scopes a client was granted. */
export const API_SCOPE = 'latchkey_api_scope';
/** Extra client metadata: a service account's scope when it asks for none. */
export const DEFAULT_API_SCOPE = 'latchkey_default_scope';

export interface ResourceServerInfo {
  audience: string;
  scope: string;
  accessTokenTTL: number;
  accessTokenFormat: 'jwt' | 'opaque';
  jwt?: { sign: { alg: 'RS256' } };
}

export const refuse = (error: string, description: string) => new errors.CustomOIDCProviderError(error, description);

export async function findResource(resources: ResourceServerService, identifier: string): Promise<ResourceServerRecord> {
  const rs = await resources.find(identifier);
  if (!rs) throw refuse('invalid_target', `resource '${identifier}' is not registered`);
  return rs;
}

/** What a token for `rs` may carry when the client's granted API scopes are `ceiling`. */
export function resourceServerInfo(rs: ResourceServerRecord, ceiling: readonly string[]): ResourceServerInfo {
  return {
    audience: rs.identifier,
    scope: allowedAt(rs, ceiling).join(' '),
    accessTokenTTL: rs.ttl,
    accessTokenFormat: rs.format,
    ...(rs.format === 'jwt' ? { jwt: { sign: { alg: 'RS256' as const } } } : {}),
  };
}

type ClientLike = { clientId: string; metadata(): Record<string, unknown> };

export const ceilingOf = (client: ClientLike) => splitScope(client.metadata()[API_SCOPE] as string | undefined);

/**
 * oidc-provider's `getResourceServerInfo`: refuses a resource the client was
 * granted nothing at, for every grant. For client credentials it also
 * decides the scopes: the library would otherwise issue a token with
 * whatever part of the request is allowed, including nothing at all.
 */
export function buildGetResourceServerInfo(resources: ResourceServerService) {
  return async (ctx: KoaContextWithOIDC, identifier: string, client: ClientLike): Promise<ResourceServerInfo> => {
    const rs = await findResource(resources, identifier);
    const ceiling = ceilingOf(client);
    const who = `client '${client.clientId}'`;
    const params = ctx.oidc.params as Record<string, unknown> | undefined;
    const clientCredentials = ctx.oidc.route === 'token' && params?.grant_type === 'client_credentials';
    const defaultScope = client.metadata()[DEFAULT_API_SCOPE];
    const decision = decideScopes({
      who,
      resource: rs,
      ceiling,
      requested: clientCredentials ? splitScope(params?.scope as string | undefined) : [],
      // Service accounts have a default scope; apps default to everything they were granted there.
      defaults: clientCredentials && typeof defaultScope === 'string' ? splitScope(defaultScope) : undefined,
    });
    if (!decision.ok) throw refuse(decision.error, decision.description);
    // The library narrows the requested scope to the resource's; with nothing
    // requested it would grant nothing, so the default is put in the request
    // the way the library itself fills in a default resource.
    if (clientCredentials && params && !params.scope) params.scope = decision.scopes.join(' ');
    return resourceServerInfo(rs, ceiling);
  };
}
