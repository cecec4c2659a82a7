// RFC 8693 token exchange: an API key (subject_token) for a short-lived
// RFC 9068 JWT access token for one resource, which resource servers verify
// offline against the JWKS. The key is the credential: a request needs no
// client authentication (the token pre-parser names the built-in client
// below for it), and every check of the key is the same as introspection's:
// the token carries what the key carries at that resource now (a person's key
// within the person's roles, a service account's within its grant), and no
// key is ever exchanged for Latchkey's own API or the admin API.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { ApiKeyService } from '../../services/api-keys/api-keys.ts';
import { API_KEY_CLIENT_ID } from '../../services/machines/built-in-clients.ts';
import { decideScopes, splitScope } from '../../services/apis/api-access.ts';
import type { ResourceServerService } from '../../services/apis/resource-servers.ts';
import { findResource, resourceServerInfo } from '../resource-indicators.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** subject_token_type of a Latchkey API key. */
export const API_KEY_TOKEN_TYPE = 'urn:latchkey:params:oauth:token-type:api-key';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

export { API_KEY_CLIENT_ID };

export function apiKeyClientMetadata() {
  return {
    client_id: API_KEY_CLIENT_ID,
    client_name: 'API keys',
    redirect_uris: [],
    response_types: [],
    grant_types: [TOKEN_EXCHANGE],
    token_endpoint_auth_method: 'none',
  };
}

/**
 * Whether a token request is a key exchange sent without client
 * authentication: the key is its only credential, and the built-in client
 * it runs as is nobody's name (for the rate limits, not a shared identity).
 */
export function isKeyExchangeWithoutClient(body: Record<string, unknown>, authorization: string): boolean {
  return body.grant_type === TOKEN_EXCHANGE && !authorization && !body.client_secret && !body.client_assertion;
}

export const parameters = ['subject_token', 'subject_token_type', 'resource', 'scope', 'audience', 'requested_token_type', 'actor_token', 'actor_token_type'];

const refuse = (error: string, description: string) => new errors.CustomOIDCProviderError(error, description);

const REASONS: Record<string, string> = {
  shape: 'subject_token is not an API key of this server (expected <prefix>_<env>_<secret>)',
  environment: 'subject_token is an API key of another environment of this server',
  checksum: 'subject_token fails its checksum: the key was mistyped or truncated',
  unknown: 'subject_token is not a known API key',
  revoked: 'the API key was revoked',
  expired: 'the API key has expired',
  owner_disabled: 'the owner of the API key is disabled',
  address: 'the API key may not be used from this address',
};

export interface TokenExchangeDeps {
  apiKeys: ApiKeyService;
  resources: ResourceServerService;
}

export function buildTokenExchangeHandler({ apiKeys, resources }: TokenExchangeDeps) {
  return async function tokenExchange(ctx: KoaContextWithOIDC): Promise<void> {
    const { client, params, provider } = ctx.oidc;
    if (!client || !params) throw refuse('invalid_client', 'client authentication failed');
    if (client.clientId !== API_KEY_CLIENT_ID)
      throw refuse('unauthorized_client', 'send the key exchange without client authentication: the API key is the credential');
    const subjectToken = params.subject_token as string | undefined;
    if (!subjectToken) throw refuse('invalid_request', 'subject_token is required: the API key');
    if (params.subject_token_type !== API_KEY_TOKEN_TYPE) {
      throw refuse('invalid_request', `subject_token_type must be ${API_KEY_TOKEN_TYPE}`);
    }
    if (params.actor_token || params.actor_token_type) throw refuse('invalid_request', 'delegation (actor_token) is not supported');
    const requested = params.requested_token_type as string | undefined;
    if (requested && requested !== ACCESS_TOKEN_TYPE && requested !== JWT_TOKEN_TYPE) {
      throw refuse('invalid_request', `requested_token_type must be ${ACCESS_TOKEN_TYPE} (the default)`);
    }
    if (params.audience) throw refuse('invalid_target', 'name the API with resource=<its identifier>, not audience');
    if (Array.isArray(params.resource)) throw refuse('invalid_target', 'only one resource may be requested with a key exchange');
    const resource = params.resource as string | undefined;
    if (!resource) throw refuse('invalid_target', 'resource is required: the identifier of the API the token is for');

    const check = await apiKeys.check(subjectToken, ctx.ip);
    if (!check.active) throw refuse('invalid_grant', REASONS[check.reason] ?? 'the API key is not active');
    const { key } = check;
    if (key.resource && key.resource !== resource) throw refuse('invalid_target', `this API key is bound to ${key.resource}; request resource=${key.resource}`);
    // A key cannot mint keys, nor administer: whatever scope names it carries.
    if (!apiKeys.isForKeys(resource)) throw refuse('invalid_target', `an API key is never exchanged for a token for ${resource}, Latchkey's own API`);
    const rs = await findResource(resources, resource);
    if (rs.format !== 'jwt') {
      throw refuse('invalid_target', `${resource} takes opaque tokens checked by introspection: let it introspect the API key itself`);
    }
    if (key.owner.kind === 'person' && rs.machinesOnly)
      throw refuse('invalid_target', `${resource} is for machines only: a person's key is never exchanged for it`);

    // What the key carries there now: a service account's within its current
    // grant, a person's within the roles they have now.
    const ceiling = apiKeys.scopesAt(check, rs);
    const requestedScopes = splitScope(params.scope as string | undefined);
    if (key.owner.kind === 'person') {
      // A scope the key names but its person no longer holds is refused by name, not as "unknown".
      const lost = requestedScopes.filter((s) => key.scopes.includes(s) && !ceiling.includes(s));
      const unheld = lost.length ? lost : !requestedScopes.length && !ceiling.length ? key.scopes.filter((s) => splitScope(rs.scope).includes(s)) : [];
      if (unheld.length) {
        throw refuse(
          'invalid_scope',
          `the owner of the API key does not hold ${unheld.join(', ')} at ${resource} now: it needs a role the owner does not have`,
        );
      }
    }
    let tokenClient = client;
    if (key.owner.kind === 'service_account') {
      const found = await provider.Client.find(key.owner.id);
      if (!found) throw refuse('invalid_grant', 'the owner of the API key is disabled');
      tokenClient = found;
    }
    const decision = decideScopes({
      who: `API key ${key.id}`,
      resource: rs,
      ceiling,
      requested: requestedScopes,
      strict: true,
    });
    if (!decision.ok) throw refuse(decision.error, decision.description);

    const info = resourceServerInfo(rs, ceiling);
    // The token never outlives the key.
    if (key.expiresAt) info.accessTokenTTL = Math.max(1, Math.min(info.accessTokenTTL, Math.floor((key.expiresAt.getTime() - Date.now()) / 1000)));
    const resourceServer = new provider.ResourceServer(resource, info);
    const scope = decision.scopes.join(' ');
    const token =
      key.owner.kind === 'service_account'
        ? // The account's own token, as client credentials would give it (sub = the account).
          new provider.ClientCredentials({ client: tokenClient, scope })
        : new provider.AccessToken({ accountId: key.owner.id, client: tokenClient, grantId: `api-key:${key.id}`, scope, gty: 'token-exchange' });
    token.resourceServer = resourceServer;
    ctx.oidc.entity(key.owner.kind === 'service_account' ? 'ClientCredentials' : 'AccessToken', token);
    const value = await token.save();
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope,
    };
  };
}
