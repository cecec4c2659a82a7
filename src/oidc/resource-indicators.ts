// RFC 8707 resource indicators: registered API resources become audiences of
// access tokens, in the format the resource asked for.
import { errors } from 'oidc-provider';
import type { ResourceServerService } from '../services/resource-servers.ts';

export interface ResourceServerInfo {
  audience: string;
  scope: string;
  accessTokenTTL: number;
  accessTokenFormat: 'jwt' | 'opaque';
  jwt?: { sign: { alg: 'RS256' } };
}

/**
 * What a token for `identifier` may carry. `clientScope`, when the client has
 * an API scope list, narrows the resource's scopes to it.
 */
export async function resourceServerInfo(
  resources: ResourceServerService,
  identifier: string,
  clientScope?: string[],
): Promise<ResourceServerInfo> {
  const rs = await resources.find(identifier);
  if (!rs) throw new errors.InvalidTarget(`resource '${identifier}' is not registered`);
  const scopes = rs.scope.split(' ').filter((s) => !clientScope || clientScope.includes(s));
  return {
    audience: rs.identifier,
    scope: scopes.join(' '),
    accessTokenTTL: rs.ttl,
    accessTokenFormat: rs.format,
    ...(rs.format === 'jwt' ? { jwt: { sign: { alg: 'RS256' as const } } } : {}),
  };
}
