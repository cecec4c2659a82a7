// How administered objects look from the outside: one JSON shape for the
// admin CLI's --json output and the admin API's bodies, so that a script can
// move from one to the other and the two can be compared. Never a secret or a
// hash of one.
import * as z from 'zod';
import type { ApiKeyRecord } from '../services/api-keys/api-keys.ts';
import type { AuditEntry } from '../services/admin/audit.ts';
import type { ClientRecord } from '../services/machines/clients.ts';
import type { ResourceServerRecord } from '../services/apis/resource-servers.ts';
import type { ServiceAccountView } from '../services/machines/service-accounts.ts';
import type { KeyStatus } from '../services/secrets/signing-keys.ts';
import type { AuthorizedApp, UserSession } from '../services/people/user-sessions.ts';
import type { PublicUser } from '../services/people/users.ts';
import type { ImportReport } from '../services/admin/json-lines.ts';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export const clientView = (c: ClientRecord) => ({
  client_id: c.clientId,
  client_name: c.name,
  public: c.public,
  ...c.metadata,
  client_secrets: [
    ...(c.secrets.current ? [{ state: 'current' as const, created_at: iso(c.secrets.current.createdAt), expires_at: null }] : []),
    ...(c.secrets.previous ? [{ state: 'previous' as const, created_at: null, expires_at: iso(c.secrets.previous.expiresAt) }] : []),
  ],
  created_at: c.createdAt.toISOString(),
  updated_at: c.updatedAt.toISOString(),
});

export const userView = (u: PublicUser) => ({
  id: u.id,
  email: u.email,
  email_verified: u.emailVerified,
  name: u.name,
  disabled: u.disabled,
  created_at: u.createdAt.toISOString(),
});

/** A user with their roles (managed on their own, so not part of the user's ETag). */
export const userWithRolesView = (u: PublicUser, roles: string[]) => ({ ...userView(u), roles });

export const serviceAccountView = (a: ServiceAccountView) => ({
  client_id: a.clientId,
  name: a.name,
  disabled: a.disabled,
  grant_types: a.metadata.grant_types,
  scope: a.metadata.scope,
  default_scope: a.metadata.default_scope,
  self_signed_tokens: a.metadata.self_signed_tokens ?? null,
  credential: a.hasSharedSecret ? ('shared_secret' as const) : ('keys' as const),
  keys: a.keys.map((k) => ({ kid: k.kid, alg: k.alg, expires_at: iso(k.expiresAt) })),
  created_at: a.createdAt.toISOString(),
});

export const resourceView = (r: ResourceServerRecord) => ({
  identifier: r.identifier,
  scope: r.scope,
  format: r.format,
  ttl: r.ttl,
  claims: r.claims,
  scope_roles: r.scopeRoles,
  machines_only: r.machinesOnly,
  created_at: r.createdAt.toISOString(),
});

/**
 * The RFC 9728 protected-resource metadata an API serves at
 * `/.well-known/oauth-protected-resource` so that clients (MCP clients among
 * them) find which authorization server issues its tokens and for which scopes.
 */
export const protectedResourceMetadataView = (r: ResourceServerRecord, issuer: string) => ({
  resource: r.identifier,
  authorization_servers: [issuer],
  scopes_supported: r.scope.split(' ').filter(Boolean),
  bearer_methods_supported: ['header'],
});

/** `now` (milliseconds since the epoch, the runtime's clock) says how long until the key's next stage. */
export const signingKeyView = (k: KeyStatus, now: number) => ({
  kid: k.kid,
  alg: k.alg,
  state: k.state,
  created_at: iso(k.createdAt),
  activates_at: iso(k.activatesAt),
  retires_at: iso(k.retiresAt),
  next_change:
    k.state === 'next' && k.activatesAt
      ? `signs in ${Math.max(0, Math.ceil((k.activatesAt.getTime() - now) / 1000))} s`
      : k.state === 'retiring' && k.retiresAt
        ? `unpublished in ${Math.max(0, Math.ceil((k.retiresAt.getTime() - now) / 1000))} s`
        : null,
});

export const auditView = (e: AuditEntry) => ({
  id: e.id,
  at: e.at.toISOString(),
  type: e.type,
  actor: e.actor,
  target: e.target,
  user_id: e.userId,
  client_id: e.clientId,
  ip: e.ip,
  user_agent: e.userAgent,
  count: e.count,
  detail: e.detail,
});

export const sessionView = (s: UserSession) => ({
  id: s.id,
  signed_in_at: iso(s.signedInAt),
  expires_at: iso(s.expiresAt),
  amr: s.amr,
  acr: s.acr,
  client_ids: s.clientIds,
});

export const appView = (a: AuthorizedApp) => ({
  grant_id: a.grantId,
  client_id: a.clientId,
  client_name: a.clientName,
  scopes: a.scopes,
  granted_at: iso(a.grantedAt),
});

/**
 * An API key as both JSON APIs (a person's own under /api/v1, any owner's
 * under /admin/api/v1), their OpenAPI documents and the CLI's --json show it.
 */
export const ApiKey = z
  .object({
    id: z.string(),
    display: z.string().describe('the beginning of the key, for recognising it; not a secret'),
    owner: z.object({ kind: z.enum(['person', 'service_account']), id: z.string() }).describe('a person (their user id) or a service account (its client id)'),
    name: z.string(),
    description: z.string().nullable(),
    scope: z.string(),
    resource: z.string().nullable().describe('the API the key is bound to, if any'),
    allowed_ips: z.array(z.string()).describe('CIDR ranges the key may be used from; empty = anywhere'),
    expires_at: z.string().nullable(),
    created_at: z.string(),
    last_used_at: z.string().nullable().describe('updated at most once a minute'),
    last_used_ip: z.string().nullable(),
    revoked_at: z.string().nullable(),
    active: z.boolean(),
  })
  .meta({ id: 'ApiKey' });

/** `now` (milliseconds since the epoch, the runtime's clock) decides `active` for a key that expires. */
export const apiKeyView = (k: ApiKeyRecord, now: number): z.output<typeof ApiKey> => ({
  id: k.id,
  display: k.display,
  owner: k.owner,
  name: k.name,
  description: k.description,
  scope: k.scopes.join(' '),
  resource: k.resource,
  allowed_ips: k.allowedCidrs,
  expires_at: iso(k.expiresAt),
  created_at: k.createdAt.toISOString(),
  last_used_at: iso(k.lastUsedAt),
  last_used_ip: k.lastUsedIp,
  revoked_at: iso(k.revokedAt),
  active: !k.revokedAt && !k.ownerDisabled && (!k.expiresAt || k.expiresAt.getTime() > now),
});

export const apiKeyExample: z.output<typeof ApiKey> = {
  id: 'key_3Xb0q9cW1nR8uY2e',
  display: 'lk_live_a1B2c3…',
  owner: { kind: 'service_account', id: 'sa_Q2xp3nV8y1Kz0bLm' },
  name: 'nightly export',
  description: null,
  scope: 'invoices.read',
  resource: 'https://billing.example.com',
  allowed_ips: ['203.0.113.0/24'],
  expires_at: '2027-03-01T00:00:00.000Z',
  created_at: '2026-12-01T00:00:00.000Z',
  last_used_at: null,
  last_used_ip: null,
  revoked_at: null,
  active: true,
};
/** What an import did (`user import`, `client import`, `api-key import` and their admin API routes). */
export const importReportView = (r: ImportReport) => ({
  dry_run: r.dry_run,
  created: r.created,
  updated: r.updated,
  skipped: r.skipped,
  failed: r.failed,
  errors: r.errors.map((e) => ({ line: e.line, field: e.field, message: e.message })),
  errors_truncated: r.errors_truncated,
});
