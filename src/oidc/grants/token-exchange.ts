// RFC 8693 token exchange: an API key (subject_token) for a short-lived
// RFC 9068 JWT access token for one resource, which resource servers verify
// offline against the JWKS. The key is the credential: a request needs no
// client authentication (the token pre-parser names the built-in client
// below for it), and every check of the key is the same as introspection's:
// the token carries what the key carries at that resource now (a person's key
// within the person's roles, a service account's within its grant), and no
// key is ever exchanged for Latchkey's own API or the admin API.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { OAuthErrorCode } from '../../errors.ts';
import type { ApiKeyService, KeyCheck } from '../../services/api-keys/api-keys.ts';
import { API_KEY_CLIENT_ID } from '../../services/machines/built-in-clients.ts';
import { decideScopes, splitScope } from '../../services/apis/api-access.ts';
import type { ResourceServerRecord, ResourceServerService } from '../../services/apis/resource-servers.ts';
import { answeredByProvider, refuse } from '../oauth-errors.ts';
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

export const parameters = ['subject_token', 'subject_token_type', 'resource', 'scope', 'audience', 'requested_token_type', 'actor_token', 'actor_token_type'];

type InactiveReason = Extract<KeyCheck, { active: false }>['reason'];
type ActiveKey = Extract<KeyCheck, { active: true }>;

/**
 * Every refusal of the exchange: its OAuth error and what the caller should
 * fix. A refusal is thrown by its name (`refused('no_resource')`), so a new
 * one does not compile until it is written here.
 */
const REFUSALS = {
  client_authenticated: ['unauthorized_client', () => 'send the key exchange without client authentication: the API key is the credential'],
  no_subject_token: ['invalid_request', () => 'subject_token is required: the API key'],
  subject_token_type: ['invalid_request', () => `subject_token_type must be ${API_KEY_TOKEN_TYPE}`],
  actor_token: ['invalid_request', () => 'delegation (actor_token) is not supported'],
  requested_token_type: ['invalid_request', () => `requested_token_type must be ${ACCESS_TOKEN_TYPE} (the default)`],
  audience: ['invalid_target', () => 'name the API with resource=<its identifier>, not audience'],
  several_resources: ['invalid_target', () => 'only one resource may be requested with a key exchange'],
  no_resource: ['invalid_target', () => 'resource is required: the identifier of the API the token is for'],
  inactive_key: ['invalid_grant', (reason: InactiveReason) => INACTIVE_KEY[reason]],
  bound_elsewhere: ['invalid_target', (bound: string) => `this API key is bound to ${bound}; request resource=${bound}`],
  own_api: ['invalid_target', (resource: string) => `an API key is never exchanged for a token for ${resource}, Latchkey's own API`],
  opaque_resource: ['invalid_target', (resource: string) => `${resource} takes opaque tokens checked by introspection: let it introspect the API key itself`],
  machines_only: ['invalid_target', (resource: string) => `${resource} is for machines only: a person's key is never exchanged for it`],
  scopes_not_held: [
    'invalid_scope',
    (unheld: string[], resource: string) =>
      `the owner of the API key does not hold ${unheld.join(', ')} at ${resource} now: it needs a role the owner does not have`,
  ],
} satisfies Record<string, readonly [OAuthErrorCode, (...args: never[]) => string]>;

function refused<K extends keyof typeof REFUSALS>(kind: K, ...args: Parameters<(typeof REFUSALS)[K][1]>) {
  const [error, describe] = REFUSALS[kind];
  return refuse(error, (describe as (...a: typeof args) => string)(...args));
}

/** Why a key is not active (src/services/api-keys/api-keys.ts): every reason has its message, or this does not compile. */
const INACTIVE_KEY: Record<InactiveReason, string> = {
  shape: 'subject_token is not an API key of this server (expected <prefix>_<env>_<secret>)',
  environment: 'subject_token is an API key of another environment of this server',
  checksum: 'subject_token fails its checksum: the key was mistyped or truncated',
  unknown: 'subject_token is not a known API key',
  revoked: 'the API key was revoked',
  expired: 'the API key has expired',
  owner_disabled: 'the owner of the API key is disabled',
  address: 'the API key may not be used from this address',
  // Only a check at given resources says this; the exchange checks the key alone.
  not_allowed: 'the API key is not active',
};

export interface TokenExchangeDeps {
  apiKeys: ApiKeyService;
  resources: ResourceServerService;
}

/** The exchange, as oidc-provider's own grants read: one named step per stage. */
export function buildTokenExchangeHandler({ apiKeys, resources }: TokenExchangeDeps) {
  return answeredByProvider(async function tokenExchange(ctx: KoaContextWithOIDC): Promise<void> {
    const { client, params, provider } = ctx.oidc;
    if (!client || !params) throw refuse('invalid_client', 'client authentication failed');
    if (client.clientId !== API_KEY_CLIENT_ID) throw refused('client_authenticated');
    const { subjectToken, resource, requestedScopes } = readRequest(params);
    const check = await apiKeys.check(subjectToken, ctx.ip);
    if (!check.active) throw refused('inactive_key', check.reason);
    const rs = await resourceFor(check, resource);
    const ceiling = ceilingAt(check, rs, resource, requestedScopes);
    // A service account's key: the account's own token, as client credentials would give it (sub = the account).
    const tokenClient = check.key.owner.kind === 'service_account' ? await accountClient(provider, check.key.owner.id) : client;
    const decision = decideScopes({ who: `API key ${check.key.id}`, resource: rs, ceiling, requested: requestedScopes, strict: true });
    if (!decision.ok) throw refuse(decision.error, decision.description);
    const scope = decision.scopes.join(' ');
    const token =
      check.key.owner.kind === 'service_account'
        ? new provider.ClientCredentials({ client: tokenClient, scope })
        : new provider.AccessToken({ accountId: check.key.owner.id, client: tokenClient, grantId: `api-key:${check.key.id}`, scope, gty: 'token-exchange' });
    // Never stored (the key's APIs take JWTs only, resourceFor): a person's token names the key as its grant, and no Grant
    // row is there to name the person for a stored one (src/oidc/adapter.ts, src/db/owned-artifacts.ts).
    token.resourceServer = new provider.ResourceServer(resource, tokenInfo(check, rs, ceiling));
    ctx.oidc.entity(check.key.owner.kind === 'service_account' ? 'ClientCredentials' : 'AccessToken', token);
    const value = await token.save();
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope,
    };
  });

  /** The request's form, before the key is looked at. */
  function readRequest(params: NonNullable<KoaContextWithOIDC['oidc']['params']>) {
    const subjectToken = params.subject_token as string | undefined;
    if (!subjectToken) throw refused('no_subject_token');
    if (params.subject_token_type !== API_KEY_TOKEN_TYPE) throw refused('subject_token_type');
    if (params.actor_token || params.actor_token_type) throw refused('actor_token');
    const requested = params.requested_token_type as string | undefined;
    if (requested && requested !== ACCESS_TOKEN_TYPE && requested !== JWT_TOKEN_TYPE) throw refused('requested_token_type');
    if (params.audience) throw refused('audience');
    if (Array.isArray(params.resource)) throw refused('several_resources');
    const resource = params.resource as string | undefined;
    if (!resource) throw refused('no_resource');
    return { subjectToken, resource, requestedScopes: splitScope(params.scope as string | undefined) };
  }

  /** The API the token is for, if this key may be exchanged for it at all. */
  async function resourceFor({ key }: ActiveKey, resource: string): Promise<ResourceServerRecord> {
    if (key.resource && key.resource !== resource) throw refused('bound_elsewhere', key.resource);
    // A key cannot mint keys, nor administer: whatever scope names it carries.
    if (!apiKeys.isForKeys(resource)) throw refused('own_api', resource);
    const rs = await findResource(resources, resource);
    if (rs.format !== 'jwt') throw refused('opaque_resource', resource);
    if (key.owner.kind === 'person' && rs.machinesOnly) throw refused('machines_only', resource);
    return rs;
  }

  /**
   * What the key carries there now: a service account's within its current
   * grant, a person's within the roles they have now.
   */
  function ceilingAt(check: ActiveKey, rs: ResourceServerRecord, resource: string, requested: string[]): string[] {
    const { key } = check;
    const ceiling = apiKeys.scopesAt(check, rs);
    if (key.owner.kind === 'person') {
      // A scope the key names but its person no longer holds is refused by name, not as "unknown".
      const lost = requested.filter((s) => key.scopes.includes(s) && !ceiling.includes(s));
      const unheld = lost.length ? lost : !requested.length && !ceiling.length ? key.scopes.filter((s) => splitScope(rs.scope).includes(s)) : [];
      if (unheld.length) throw refused('scopes_not_held', unheld, resource);
    }
    return ceiling;
  }

  async function accountClient(provider: KoaContextWithOIDC['oidc']['provider'], accountId: string) {
    const found = await provider.Client.find(accountId);
    if (!found) throw refused('inactive_key', 'owner_disabled');
    return found;
  }

  /** The token's lifetime and audience at the API: the API's, but never longer than the key's. */
  function tokenInfo({ key }: ActiveKey, rs: ResourceServerRecord, ceiling: readonly string[]) {
    const info = resourceServerInfo(rs, ceiling);
    if (key.expiresAt) info.accessTokenTTL = Math.max(1, Math.min(info.accessTokenTTL, Math.floor((key.expiresAt.getTime() - Date.now()) / 1000)));
    return info;
  }
}
