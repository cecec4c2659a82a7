// Builds the oidc-provider instance from our configuration and storage.
import { createHmac } from 'node:crypto';
import Provider from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from '../config/env.ts';
import type { ArtifactStore } from '../db/artifact-store.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Render } from '../middleware/koa-render.ts';
import type { ClientService } from '../services/machines/clients.ts';
import type { ResourceServerService } from '../services/apis/resource-servers.ts';
import { JWT_BEARER, type ServiceAccountService } from '../services/machines/service-accounts.ts';
import { buildJwtBearerHandler, parameters as jwtBearerParameters } from './grants/jwt-bearer.ts';
import { buildTokenExchangeHandler, parameters as tokenExchangeParameters, TOKEN_EXCHANGE } from './grants/token-exchange.ts';
import type { ApiKeyService } from '../services/api-keys/api-keys.ts';
import { keyShaped } from './introspection-extensions.ts';
import type { UserService } from '../services/people/users.ts';
import { createAdapterClass } from './adapter.ts';
import { useHashedClientSecrets } from './client-secrets.ts';
import { useAtomicReplayDetection } from './replay-detection.ts';
import { useDeterministicSuccessors } from './refresh-grace.ts';
import { useDevicePolling } from './device-flow.ts';
import type { BackchannelSender } from './backchannel-logout.ts';
import { buildConfiguration } from './configuration.ts';
import { exposeErrorDetails } from './error-details.ts';
import { createFindAccount } from './find-account.ts';
import { recordTokenUsage } from './token-audit.ts';
import type { Message } from '../ui/catalogue.ts';
import type { TokenUsage } from '../services/admin/token-usage.ts';
import { buildExtraTokenClaims } from './token-claims.ts';
import { createRolesOf } from './person-roles.ts';
import { auditRegistrations, withRegisteredClients } from './self-registered-clients.ts';
import { createMetadataDocumentFetcher } from '../services/machines/metadata-document-fetch.ts';
import type { AuditService } from '../services/admin/audit.ts';

export interface ProviderDeps {
  config: Config;
  artifacts: ArtifactStore;
  log: Logger;
  render: Render;
  users: UserService;
  clients: ClientService;
  serviceAccounts: ServiceAccountService;
  resources: ResourceServerService;
  apiKeys: ApiKeyService;
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  artifactIdKey: Buffer;
  metrics: Metrics;
  tokenUsage: TokenUsage;
  /** Milliseconds since the epoch: the runtime's clock, which tests move. */
  now: () => number;
  /** What each scope means, in a person's words (the consent page's descriptions). */
  describeScopes(scopes: string[], resources?: Record<string, string[]>): Message[];
  /** Sends logout tokens off the request path (one per server, shared by rebuilt providers). */
  backchannel: BackchannelSender;
  /** The languages of the pages (src/ui/catalogue.ts). */
  uiLocales: readonly string[];
  /** Makes the writes the request holds (src/db/held-writes.ts). */
  settleWrites(): Promise<void>;
  audit: AuditService;
}

export function createProvider(deps: ProviderDeps): Provider {
  const rolesOf = createRolesOf(deps.users);
  const configuration = buildConfiguration({
    config: deps.config,
    adapter: withRegisteredClients(
      createAdapterClass({
        artifacts: deps.artifacts,
        clients: deps.clients,
        issuer: deps.config.issuer,
        consoleUrl: deps.config.console.listener?.url,
        idKey: deps.artifactIdKey,
        notATokenId: keyShaped(deps.config.apiKeys),
        refreshReuseGrace: deps.config.refreshReuseGrace,
        now: deps.now,
      }),
      deps.clients,
    ),
    findAccount: createFindAccount(deps.users),
    jwks: deps.jwks,
    cookieKeys: deps.cookieKeys,
    render: deps.render,
    resources: deps.resources,
    extraTokenClaims: buildExtraTokenClaims(deps.resources, deps.users, rolesOf),
    rolesOf,
    describeScopes: deps.describeScopes,
    uiLocales: deps.uiLocales,
    // A short deadline: the person's authorization request waits for it.
    fetchMetadataDocument: createMetadataDocumentFetcher({
      allowPrivate: deps.config.selfRegistered.allowPrivateAddresses,
      extraCa: deps.config.selfRegistered.extraCa,
      maxBytes: deps.config.selfRegistered.maxDocumentBytes,
      timeoutMs: 2000,
    }),
    settleWrites: deps.settleWrites,
    log: deps.log,
  });
  const provider = new Provider(deps.config.issuer, configuration);
  provider.proxy = deps.config.trustProxy;
  useHashedClientSecrets(provider, deps.clients);
  useAtomicReplayDetection(provider, deps.artifacts);
  useDevicePolling(provider, { artifacts: deps.artifacts, idKey: deps.artifactIdKey, intervalSeconds: deps.config.deviceFlow.pollInterval, now: deps.now });
  useDeterministicSuccessors(provider, createHmac('sha256', deps.artifactIdKey).update('refresh-token-successors').digest());
  deps.backchannel.install(provider);
  exposeErrorDetails(provider);
  recordTokenUsage(provider, deps.tokenUsage);
  auditRegistrations(provider, deps.audit, deps.log);
  provider.registerGrantType(
    JWT_BEARER,
    buildJwtBearerHandler({ config: deps.config, artifacts: deps.artifacts, serviceAccounts: deps.serviceAccounts, resources: deps.resources }),
    jwtBearerParameters,
  );
  provider.registerGrantType(TOKEN_EXCHANGE, buildTokenExchangeHandler({ apiKeys: deps.apiKeys, resources: deps.resources }), tokenExchangeParameters);
  provider.on('grant.success', (ctx) => {
    deps.metrics.tokensIssued.inc({ grant_type: String(ctx.oidc.params?.grant_type ?? 'unknown') });
  });
  provider.on('grant.error', (_ctx, err) => {
    deps.metrics.tokenErrors.inc({ error: (err as { error?: string }).error ?? 'server_error' });
  });
  provider.on('server_error', (ctx, err) => {
    deps.log.error({ err, route: ctx.oidc?.route }, 'provider server_error');
  });
  return provider;
}
