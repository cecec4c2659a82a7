// Who may learn what a token is (RFC 7662 §4: the server decides). The client
// the token was issued to may introspect it; a resource server may introspect
// the access tokens whose audience is one of its APIs (registered with
// `client create --resource-server URI`). Nobody else: to any other caller a
// live token looks exactly like a dead one (`{"active": false}`). Refresh
// tokens are their client's business alone.
import type { KoaContextWithOIDC } from 'oidc-provider';

/** Extra client metadata: the API identifiers this client serves as a resource server. */
export const RESOURCE_SERVERS = 'latchkey_resource_servers';

/** What the policy reads of a client: the provider's Client has it. */
export type ClientLike = { clientId: string; metadata(): Record<string, unknown> };
type TokenLike = { clientId?: string; kind: string; aud?: unknown };

export const audiencesOf = (aud: unknown): string[] =>
  typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];

export function servedResources(client: ClientLike): string[] {
  // A provider Client keeps extra metadata under its own (snake_case) name as a property;
  // metadata() rebuilds the whole snake_case object, which cost more than the rest of a key check.
  const own = (client as unknown as Record<string, unknown>)[RESOURCE_SERVERS];
  const served = own !== undefined ? own : client.metadata()[RESOURCE_SERVERS];
  return Array.isArray(served) ? (served as string[]) : [];
}

export function mayIntrospect(client: ClientLike, token: TokenLike): boolean {
  if (token.clientId === client.clientId) return true;
  if (token.kind === 'RefreshToken') return false;
  const served = servedResources(client);
  return served.length > 0 && audiencesOf(token.aud).some((a) => served.includes(a));
}

export const introspectionAllowedPolicy = async (_ctx: KoaContextWithOIDC, client: ClientLike, token: TokenLike) => mayIntrospect(client, token);
