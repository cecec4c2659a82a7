// oidc-provider configuration. Defaults we rely on are restated here with the
// reason; everything else is the library's default.
import { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR_MFA, ACR_PASSWORD, REQUIRE_MFA, requiresSecondFactor } from './acr.ts';
import type { JWK } from 'jose';
import { refuseLostConsumption } from './adapter.ts';
import type { Config } from '../config/env.ts';
import type { Render } from '../middleware/koa-render.ts';
import { msg, type Message } from '../ui/catalogue.ts';
import type { ResourceServerService } from '../services/apis/resource-servers.ts';
import { API_SCOPE, DEFAULT_API_SCOPE, DEFAULT_RESOURCE, buildDefaultResource, buildGetResourceServerInfo } from './resource-indicators.ts';
import { ACCOUNT_CLIENT_ID } from './account-session.ts';
import { RESOURCE_SERVERS, audiencesOf, introspectionAllowedPolicy } from './introspection-policy.ts';
import type { RolesOf } from './person-roles.ts';
import { deviceFlowFeature } from './device-flow.ts';
import type { Logger } from '../logger.ts';
import type { MetadataDocumentFetcher } from '../services/machines/metadata-document-fetch.ts';
import { METADATA_DOCUMENT_PURPOSE, buildProviderFetch, metadataDocumentFeature } from './client-metadata-documents.ts';
import { applySelfRegisteredPolicy, registrationFeatures } from './self-registered-clients.ts';

export const SCOPES = ['openid', 'offline_access', 'profile', 'email'];

export interface ConfigurationDeps {
  config: Config;
  adapter: NonNullable<Configuration['adapter']>;
  findAccount: NonNullable<Configuration['findAccount']>;
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  render: Render;
  resources: ResourceServerService;
  extraTokenClaims: NonNullable<Configuration['extraTokenClaims']>;
  /** A person's roles, read once per request (src/oidc/person-roles.ts). */
  rolesOf: RolesOf;
  /** What each scope means, in a person's words (the consent page's descriptions). */
  describeScopes(scopes: string[], resources?: Record<string, string[]>): Message[];
  /** The languages pages are shown in (discovery's ui_locales_supported). */
  uiLocales: readonly string[];
  /** Fetches client metadata documents (src/services/machines/metadata-document-fetch.ts). */
  fetchMetadataDocument: MetadataDocumentFetcher;
  /** Makes the writes the request holds (src/db/held-writes.ts). */
  settleWrites(): Promise<void>;
  log: Logger;
}

/** What an error page says for the provider's errors (views/locales: error.*). */
const friendlyErrors: Record<string, string> = {
  invalid_client: 'error.invalidClient',
  invalid_redirect_uri: 'error.invalidRedirectUri',
  invalid_request: 'error.invalidRequest',
  session_not_found: 'error.sessionLost',
  access_denied: 'error.accessDenied',
};

const DEVICE_ROUTES = new Set(['code_verification', 'device_resume']);

/**
 * The library's prompts, plus two login checks and a consent check:
 * - a session whose person no longer has an account (disabled or deleted,
 *   perhaps on another node a moment ago) must sign in again; the library
 *   would otherwise go on to consent with no grant loaded and fail;
 * - a client that requires a second factor (or a request with acr_values
 *   asking for it) sends a person whose session was established with a
 *   password only back to the login prompt, where our pages ask for the
 *   second factor alone (step-up).
 */
function buildPolicy(registrationOpen: boolean) {
  const { base, Check, Prompt } = interactionPolicy;
  const policy = base();
  // `prompt=create` (OpenID Connect "Initiating User Registration"): the
  // app sends the person straight to the sign-up page. Only when anyone may
  // sign up; otherwise the library refuses the value (invalid_request).
  // Resolved by the login that follows (src/oidc/interactions.ts).
  if (registrationOpen) policy.add(new Prompt({ name: 'create', requestable: true }), 0);
  policy
    .get('login')!
    .checks.add(
      new Check('account_gone', 'the signed-in account is disabled or deleted', (ctx) =>
        ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
      ),
    );
  // A device asking for access is always approved by hand, remembered consent
  // or not: a code someone else sent the person is the device flow's phishing.
  policy
    .get('consent')!
    .checks.add(
      new Check('device_approval', 'a device asks for access', (ctx) =>
        DEVICE_ROUTES.has(String(ctx.oidc.route)) && !ctx.oidc.result?.consent ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
      ),
    );
  policy.get('login')!.checks.add(
    new Check('mfa_required', 'a second factor is required', (ctx) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId || !oidc.client) return Check.NO_NEED_TO_PROMPT;
      const needed = requiresSecondFactor(oidc.client.metadata(), oidc.params?.acr_values);
      return needed && oidc.session.acr !== ACR_MFA ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}

export function buildConfiguration(deps: ConfigurationDeps): Configuration {
  const { config, render } = deps;
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies, signed: true };

  return {
    adapter: deps.adapter,
    findAccount: deps.findAccount,
    jwks: deps.jwks as Configuration['jwks'],
    cookies: { keys: deps.cookieKeys, long: cookie, short: cookie },

    scopes: SCOPES,
    claims: {
      // `amr`, `acr` and `auth_time` are only put into ID tokens when some
      // scope maps them: `auth_time` in every ID token, not only after max_age.
      openid: ['sub', 'amr', 'acr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Put the requested profile/email claims in the ID token as well as at
    // userinfo (what Keycloak and Auth0 do), rather than userinfo only.
    conformIdTokenClaims: false,
    acrValues: [ACR_PASSWORD, ACR_MFA],

    responseTypes: ['code'],
    pkce: { required: () => true },
    // Require redirect_uri on every request: exact matching, no implied default.
    allowOmittingSingleRegisteredRedirectUri: false,
    // No client_secret_jwt: secrets are stored as HMACs, so HS* keyed on the secret cannot work.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      requestObjectSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    },
    extraClientMetadata: {
      properties: [API_SCOPE, DEFAULT_API_SCOPE, RESOURCE_SERVERS, REQUIRE_MFA, DEFAULT_RESOURCE],
      validator(_ctx, key, value, metadata) {
        // Clients nobody here created (metadata documents, dynamic registration): their policy, once per build.
        if (key === API_SCOPE) {
          applySelfRegisteredPolicy(metadata as unknown as Record<string, unknown>, { apiScope: config.selfRegistered.apiScope }, SCOPES);
          value = (metadata as unknown as Record<string, unknown>)[API_SCOPE];
        }
        if ((key === API_SCOPE || key === DEFAULT_API_SCOPE || key === DEFAULT_RESOURCE) && value !== undefined && typeof value !== 'string')
          throw new Error(`${key} must be a string`);
        if (key === RESOURCE_SERVERS && value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
          throw new Error(`${RESOURCE_SERVERS} must be an array of strings`);
        }
        if (key === REQUIRE_MFA && value !== undefined && typeof value !== 'boolean') throw new Error(`${REQUIRE_MFA} must be a boolean`);
      },
    },
    // A client assertion (private_key_jwt) must be addressed to this server:
    // the issuer or its token endpoint, not whichever endpoint URL the request
    // happened to reach (RFC 7523bis narrows it to the issuer alone).
    async assertJwtClientAuthClaimsAndHeader(_ctx, claims) {
      const accepted = [config.issuer, `${config.issuer}/token`];
      if (!audiencesOf(claims.aud).some((a) => accepted.includes(a))) {
        throw new errors.InvalidClientAuth(`client assertion aud must be ${accepted.join(' or ')}`);
      }
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      // No require_auth_time: the library then refuses every request without
      // `openid` (plain OAuth 2.0). auth_time is in every ID token through
      // the claims above instead.
      token_endpoint_auth_method: 'client_secret_basic',
    },

    // A refresh token only for the offline_access scope (granted with
    // prompt=consent, OIDC Core §11) and only for clients allowed the grant.
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: true,

    // Remembered consent; the account page (our own first-party client) needs none.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(oidc.client!.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      if (oidc.client!.clientId !== ACCOUNT_CLIENT_ID) return undefined;
      const grant = new oidc.provider.Grant({ clientId: ACCOUNT_CLIENT_ID, accountId: oidc.session!.accountId! });
      grant.addOIDCScope('openid');
      await grant.save();
      return grant;
    },

    ttl: {
      // A resource's own lifetime wins wherever its tokens are issued.
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ttl.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      // A sign-in page opened by someone not signed in is kept for a short
      // while only: unauthenticated traffic cannot fill the table for an hour.
      Interaction: (ctx) => (ctx?.oidc?.session?.accountId ? config.ttl.interaction : config.ttl.loginInteraction),
      // A session nobody signed in to (e.g. a logout request without one)
      // holds only a form's state: it is kept as briefly as a sign-in page.
      Session: (_ctx, session) => (session.accountId ? config.ttl.session : config.ttl.loginInteraction),
      Grant: config.ttl.refreshToken,
      DeviceCode: config.deviceFlow.codeTtl,
    },

    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: buildPolicy(config.registration === 'open'),
    },
    discovery: {
      prompt_values_supported: ['none', 'login', 'consent', ...(config.registration === 'open' ? ['create'] : [])],
      ui_locales_supported: [...deps.uiLocales],
    },
    extraTokenClaims: deps.extraTokenClaims,
    formats: {
      customizers: {
        // A JWT access token is never stored, so a refresh that issues one
        // makes no second token write to carry its held consumption
        // (src/db/held-writes.ts): the request's held writes are made here,
        // before the token is signed, and a lost race is refused as the
        // provider refuses it, inside the grant, instead of after its answer.
        jwt: async () => {
          await deps.settleWrites().catch(refuseLostConsumption);
        },
      },
    },
    // oidc-provider's requests to apps (logout tokens) carry an SSRF guard
    // that refuses loopback and private addresses; ALLOW_PRIVATE_NETWORK_FETCH
    // lifts it for apps on the operator's own network. Metadata documents go
    // through our own guarded fetcher (src/oidc/client-metadata-documents.ts).
    fetch: buildProviderFetch(config, deps.fetchMetadataDocument, deps.log),
    fetchResponseBodyLimits: { [METADATA_DOCUMENT_PURPOSE]: config.selfRegistered.maxDocumentBytes },

    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: introspectionAllowedPolicy },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // DEFAULT_RESOURCE serves machine grants; a person's authorization asking
        // for API scopes without naming a resource is for the client's default
        // resource, and otherwise refused (src/oidc/resource-indicators.ts).
        defaultResource: buildDefaultResource(SCOPES, config.defaultResource),
        getResourceServerInfo: buildGetResourceServerInfo(deps.resources, SCOPES, deps.rolesOf),
        useGrantedResource: async () => true,
      },
      // The library's rule, restated to silence its warning: only the token's own client revokes it.
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      userinfo: { enabled: true },
      // Logout tokens to apps that registered a back-channel logout URI; sent
      // off the request path and retried (src/oidc/backchannel-logout.ts).
      backchannelLogout: { enabled: true },
      // Self-registered clients, both off by default (src/oidc/self-registered-clients.ts).
      clientIdMetadataDocument: metadataDocumentFeature(config),
      ...registrationFeatures(config),
      deviceFlow: deviceFlowFeature({ render, codeTtl: config.deviceFlow.codeTtl, describeScopes: deps.describeScopes }),
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: KoaContextWithOIDC, form: string) {
          render(ctx, 'logout', { form, clientName: ctx.oidc.client?.clientName });
        },
        async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          render(ctx, 'logged-out', { clientName: ctx.oidc.client?.clientName });
        },
      },
    },

    async renderError(ctx, out) {
      const code = String(out.error ?? 'server_error');
      const message = msg(friendlyErrors[code] ?? (ctx.status >= 500 ? 'error.server' : 'error.requestFailed'));
      // The provider's descriptions say what the app must fix and carry no secrets; 5xx ones are generic.
      const detail = ctx.status < 500 && typeof out.error_description === 'string' ? out.error_description : undefined;
      // The way back: the app's home page when the client is known and registered one, else ours.
      const clientUri = ctx.oidc?.client?.clientUri;
      const back =
        clientUri && /^https?:\/\//.test(clientUri)
          ? { href: clientUri, label: msg('common.backToApp', { app: ctx.oidc?.client?.clientName ?? ctx.oidc?.client?.clientId ?? '' }) }
          : { href: '/', label: msg('common.backToStart') };
      render(ctx, 'error', { message, detail, code, back });
    },
  };
}
