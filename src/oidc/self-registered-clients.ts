// Clients that identify themselves, in oidc-provider's terms: metadata
// documents (src/oidc/client-metadata-documents.ts) and dynamic registration
// (RFC 7591, with RFC 7592 management: features.registration and
// features.registrationManagement at /reg). One policy for both
// (src/services/machines/self-registered-clients.ts), applied where the
// library builds every client's metadata (extraClientMetadata.validator), so
// neither a document, a registration nor an update gets around it.
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import { errors, type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Config } from '../config/env.ts';
import type { AuditService } from '../services/admin/audit.ts';
import type { Logger } from '../logger.ts';
import type { ClientService } from '../services/machines/clients.ts';
import type { RegistrationTokenService } from '../services/machines/registration-tokens.ts';
import {
  checkSelfRegisteredMetadata,
  isRegisteredClientId,
  isSelfRegistered,
  REGISTERED_CLIENT_PREFIX,
  type SelfRegisteredPolicy,
} from '../services/machines/self-registered-clients.ts';
import { RESOURCE_SERVERS } from './introspection-policy.ts';
import { API_SCOPE, DEFAULT_API_SCOPE, DEFAULT_RESOURCE } from './resource-indicators.ts';

const SERVER_KEYS = { apiScope: API_SCOPE, others: [DEFAULT_API_SCOPE, RESOURCE_SERVERS, DEFAULT_RESOURCE] };

/**
 * Checks a self-registered client's metadata as the library builds it, and
 * gives it the policy's API scopes (nothing it asked for). Other clients pass
 * untouched. Called once per client build, before the extra properties are checked.
 */
export function applySelfRegisteredPolicy(metadata: Record<string, unknown>, policy: SelfRegisteredPolicy, oidcScopes: readonly string[]): void {
  if (!isSelfRegistered(metadata.client_id)) return;
  const problem = checkSelfRegisteredMetadata(metadata, policy, SERVER_KEYS);
  if (problem) throw new errors.CustomOIDCProviderError(problem.error, problem.description);
  if (policy.apiScope) metadata[API_SCOPE] = policy.apiScope;
  else delete metadata[API_SCOPE];
  // A client's `scope` names what it will ask for; the library accepts only
  // OpenID Connect scopes there (API scopes are the policy's, above). MCP
  // clients register with the API's scopes (RFC 9728 scopes_supported): kept
  // to the OpenID Connect part, or left out (then any may be asked for).
  if (typeof metadata.scope === 'string') {
    const kept = metadata.scope.split(' ').filter((s) => oidcScopes.includes(s));
    if (kept.length) metadata.scope = kept.join(' ');
    else delete metadata.scope;
  }
}

export function registrationFeatures(config: Config) {
  const enabled = config.selfRegistered.registration !== 'off';
  return {
    registration: {
      enabled,
      // Initial access tokens are ours (registrationGate), with uses and expiry; the library sees an open endpoint.
      initialAccessToken: false,
      idFactory: () => `${REGISTERED_CLIENT_PREFIX}${randomBytes(16).toString('hex')}`,
      // The policy admits no shared-secret client, so the library never asks for one.
      secretFactory: (ctx: { oidc: { body?: Record<string, unknown> } }) => {
        const method = String(ctx.oidc.body?.token_endpoint_auth_method ?? 'client_secret_basic (the default)');
        throw new errors.InvalidClientMetadata(
          `token_endpoint_auth_method ${method} is not allowed: registered clients get no shared secret; ` +
            "use 'none' (a public client) or 'private_key_jwt' with a jwks_uri",
        );
      },
      issueRegistrationAccessToken: true,
    },
    registrationManagement: { enabled, rotateRegistrationAccessToken: true },
  };
}

type AdapterClass = NonNullable<Configuration['adapter']>;

/**
 * The storage of dynamically registered clients: our clients table (kind
 * `registered`), beside the apps the CLI creates, which stay read-only to the
 * library. The API scopes the policy grants are not stored: they are given
 * again each time the client is built, so a policy change applies at once.
 */
export function withRegisteredClients(Base: AdapterClass, clients: ClientService): AdapterClass {
  function Wrapped(name: string): Adapter {
    const base = new (Base as new (name: string) => Adapter)(name);
    if (name !== 'Client') return base;
    return {
      find: (id) => base.find(id),
      findByUid: (uid) => base.findByUid(uid),
      findByUserCode: (code) => base.findByUserCode(code),
      consume: (id) => base.consume(id),
      revokeByGrantId: (grantId) => base.revokeByGrantId(grantId),
      async upsert(id: string, payload: AdapterPayload) {
        if (!isRegisteredClientId(id)) throw new Error('clients are managed with the admin CLI');
        const { client_id: _id, client_name, client_secret: _secret, [API_SCOPE]: _scope, ...metadata } = payload as Record<string, unknown>;
        await clients.saveRegistered(id, typeof client_name === 'string' ? client_name : id, metadata);
      },
      async destroy(id: string) {
        if (!isRegisteredClientId(id)) throw new Error('clients are managed with the admin CLI');
        await clients.deleteRegistered(id);
      },
    };
  }
  return Wrapped as unknown as AdapterClass;
}

/**
 * In front of POST /reg when DYNAMIC_CLIENT_REGISTRATION=token: the
 * request's bearer token must be a live initial access token; one use is
 * spent, and given back when the registration is refused.
 */
export function registrationGate(config: Config, tokens: RegistrationTokenService) {
  return async (ctx: Context, next: Next) => {
    if (config.selfRegistered.registration !== 'token') return next();
    const refuse = (description: string) => {
      ctx.status = 401;
      ctx.set('Cache-Control', 'no-store');
      ctx.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`);
      ctx.body = { error: 'invalid_token', error_description: description };
    };
    const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    if (!m) return refuse('an initial access token is required (Authorization: Bearer <token>); ask the operator for one');
    const spent = await tokens.spend(m[1]!);
    if (!spent.ok) return refuse(spent.reason);
    try {
      await next();
    } finally {
      if (ctx.status !== 201) await spent.refund();
    }
  };
}

/** Every registration, update and deletion in the audit trail (who: the address; never a token). */
export function auditRegistrations(provider: Provider, audit: AuditService, log: Logger): void {
  const on = provider.on.bind(provider) as (event: string, fn: (ctx: Context, client: { clientId: string; clientName?: string }) => void) => void;
  const record =
    (type: 'client.registered' | 'client.registration_updated' | 'client.registration_deleted') =>
    (ctx: Context, client: { clientId: string; clientName?: string }) => {
      audit
        .record(type, { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, clientId: client.clientId }, { client_name: client.clientName })
        .catch((err: Error) => log.warn({ err: { message: err.message }, clientId: client.clientId }, 'audit of a client registration failed'));
    };
  on('registration_create.success', record('client.registered'));
  on('registration_update.success', record('client.registration_updated'));
  on('registration_delete.success', record('client.registration_deleted'));
}
