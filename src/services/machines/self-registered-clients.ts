// The rules for clients nobody here created: those identified by a metadata
// document (their client_id is an https URL) and those registered dynamically
// (RFC 7591). One policy for both, what Keycloak's "client registration
// policies" and Auth0's dynamic registration apply by default: a public
// client (or one proving itself with private_key_jwt keys at a jwks_uri) that
// signs people in with the authorization code, redirects to https (or to a
// loopback address, for native apps), and gets no API scope unless the
// operator grants self-registered clients some.

/** Grants a self-registered client may use. */
export const SELF_REGISTERED_GRANTS = ['authorization_code', 'refresh_token'] as const;
/** Client authentication a self-registered client may use: no shared secret is ever handed out or fetched. */
export const SELF_REGISTERED_AUTH_METHODS = ['none', 'private_key_jwt'] as const;
/** Ids of dynamically registered clients: a prefix operators cannot create or import (`latchkey-` is reserved). */
export const REGISTERED_CLIENT_PREFIX = 'latchkey-reg-';

export interface SelfRegisteredPolicy {
  /** API scopes every self-registered client may ask for (SELF_REGISTERED_CLIENT_API_SCOPES). */
  apiScope: string;
}

export interface MetadataProblem {
  error: 'invalid_client_metadata' | 'invalid_redirect_uri';
  description: string;
}

export const isMetadataDocumentClientId = (clientId: unknown): clientId is string => typeof clientId === 'string' && clientId.startsWith('https://');
export const isRegisteredClientId = (clientId: unknown): clientId is string => typeof clientId === 'string' && clientId.startsWith(REGISTERED_CLIENT_PREFIX);
export const isSelfRegistered = (clientId: unknown) => isMetadataDocumentClientId(clientId) || isRegisteredClientId(clientId);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function redirectProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return 'redirect_uris must be strings';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `redirect URI '${uri}' is not a URL`;
  }
  if (url.hash) return `redirect URI '${uri}' must not have a fragment`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `redirect URI '${uri}' must use https, or http on a loopback address (127.0.0.1, [::1], localhost) for native apps`;
}

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/**
 * What is wrong with a self-registered client's metadata (a fetched document,
 * a registration or an update), or undefined. `serverKeys` are metadata the
 * server decides (API scopes, resources): a client may repeat the value the
 * policy gives it (an RFC 7592 update sends back what it read) but never set
 * one of its own.
 */
export function checkSelfRegisteredMetadata(
  metadata: Record<string, unknown>,
  policy: SelfRegisteredPolicy,
  serverKeys: { apiScope: string; others: readonly string[] },
): MetadataProblem | undefined {
  const bad = (description: string): MetadataProblem => ({ error: 'invalid_client_metadata', description });
  const asked = metadata[serverKeys.apiScope];
  if (asked !== undefined && asked !== policy.apiScope) {
    return bad(
      policy.apiScope
        ? `API scopes are granted by the server's policy, not asked for: self-registered clients may ask for '${policy.apiScope}' at registered APIs`
        : 'API scopes are granted by the server, not asked for: self-registered clients get none here',
    );
  }
  const forced = serverKeys.others.find((k) => metadata[k] !== undefined);
  if (forced) return bad(`${forced} is decided by the server, not by the client`);
  const method = metadata.token_endpoint_auth_method;
  if (!(SELF_REGISTERED_AUTH_METHODS as readonly unknown[]).includes(method)) {
    return bad(
      `token_endpoint_auth_method '${String(method ?? 'client_secret_basic')}' is not allowed: ` +
        "use 'none' (a public client) or 'private_key_jwt' with a jwks_uri",
    );
  }
  if (method === 'private_key_jwt' && typeof metadata.jwks_uri !== 'string') return bad('private_key_jwt needs a jwks_uri naming the keys');
  const grants = listOf(metadata.grant_types);
  const refused = grants.find((g) => !(SELF_REGISTERED_GRANTS as readonly unknown[]).includes(g));
  if (refused !== undefined) {
    return bad(`grant type '${String(refused)}' is not allowed for self-registered clients; allowed: ${SELF_REGISTERED_GRANTS.join(' ')}`);
  }
  const responses = listOf(metadata.response_types);
  if (responses.some((r) => r !== 'code')) return bad("only the response type 'code' is allowed");
  const redirects = listOf(metadata.redirect_uris);
  if (!redirects.length) return { error: 'invalid_redirect_uri', description: 'at least one redirect URI is required' };
  for (const uri of redirects) {
    const problem = redirectProblem(uri);
    if (problem) return { error: 'invalid_redirect_uri', description: problem };
  }
  return undefined;
}
