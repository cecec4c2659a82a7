// The admin API's shapes, in zod: request bodies and queries are checked
// against them, and the OpenAPI document is generated from them. Paging and
// the list filters, which /api/v1 and the console read too, are in
// src/api/list-queries.ts. Responses
// are the views of src/api/views.ts (shared with the CLI's --json).
import * as z from 'zod';
import { isReservedClientId } from '../../services/machines/built-in-clients.ts';
import { PERSON_CLAIMS } from '../../services/apis/resource-servers.ts';
import { PageQuery, scope, timestamp } from '../list-queries.ts';

const id = (description: string) => z.string().min(1).max(200).describe(description);
const nullableTimestamp = timestamp.nullable();
const uri = z.string().min(1).max(2000);

// ---- clients ---------------------------------------------------------------

export const ClientSecretInfo = z
  .object({
    state: z.enum(['current', 'previous']),
    created_at: nullableTimestamp,
    expires_at: nullableTimestamp.describe('when a rotated-out secret stops working'),
  })
  .meta({ id: 'ClientSecretInfo', description: 'A secret that works now (never its value)' });

export const Client = z
  .object({
    client_id: z.string(),
    client_name: z.string(),
    public: z.boolean(),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    grant_types: z.array(z.string()),
    response_types: z.array(z.string()),
    token_endpoint_auth_method: z.string(),
    scope: z.string(),
    id_token_signed_response_alg: z.string().optional(),
    api_scope: z.string().optional(),
    resource_servers: z.array(z.string()).optional(),
    latchkey_require_mfa: z.boolean().optional(),
    default_resource: z.string().optional(),
    backchannel_logout_uri: z.string().optional(),
    backchannel_logout_session_required: z.boolean().optional(),
    logo_uri: z.string().optional(),
    client_uri: z.string().optional(),
    policy_uri: z.string().optional(),
    tos_uri: z.string().optional(),
    client_secrets: z.array(ClientSecretInfo),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Client' });

export const clientExample = {
  client_id: 'kX3v9q2LrN8pYw1mZt6b4A',
  client_name: 'Billing',
  public: false,
  redirect_uris: ['https://billing.example.com/callback'],
  post_logout_redirect_uris: [],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid profile email offline_access',
  client_secrets: [{ state: 'current', created_at: '2026-11-23T12:00:00.000Z', expires_at: null }],
  created_at: '2026-11-23T12:00:00.000Z',
  updated_at: '2026-11-23T12:00:00.000Z',
};

const clientName = z.string().trim().min(1, 'must not be empty').max(200);

/** A client's registration; every field optional, as an update sends it (fields left out keep their value). */
const clientRegistration = z.strictObject({
  client_name: clientName.optional(),
  redirect_uris: z.array(uri).max(50).optional().describe('exact redirect URIs (https; http for loopback only)'),
  post_logout_redirect_uris: z.array(uri).max(50).optional(),
  scope: scope.optional().describe('OpenID scopes the client may ask for'),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  id_token_signed_response_alg: z.enum(['RS256', 'ES256']).optional(),
  client_credentials: z.boolean().optional().describe('also allow the client_credentials grant'),
  api_scope: scope.optional().describe('API scopes the client is granted'),
  resource_servers: z.array(uri).max(50).optional().describe('registered resources whose tokens it may introspect'),
  require_mfa: z.boolean().optional().describe('every sign-in to it needs a second factor'),
  default_resource: uri.optional().describe("the registered API a person's authorization asking for API scopes is for when it names no resource"),
  device_flow: z.boolean().optional().describe('also allow the device authorization grant (RFC 8628); with no redirect URIs, a device-only client'),
  backchannel_logout_uri: z
    .union([uri, z.literal('')])
    .optional()
    .describe('OpenID Connect Back-Channel Logout: where logout tokens are posted when a session it was signed in through ends; empty removes it'),
  backchannel_logout_session_required: z.boolean().optional().describe("logout tokens carry the session's sid"),
  logo_uri: z.string().max(2048).optional().describe("the app's logo on its sign-in and consent pages (https; empty to remove)"),
  client_uri: z.string().max(2048).optional().describe("the app's home page, linked from its sign-in, consent and error pages (https; empty to remove)"),
  policy_uri: z.string().max(2048).optional().describe("the app's privacy policy, linked on consent (https; empty to remove)"),
  tos_uri: z.string().max(2048).optional().describe("the app's terms of service, linked on consent (https; empty to remove)"),
});

export const UpdateClient = clientRegistration.meta({ id: 'UpdateClient' });

export const CreateClient = clientRegistration
  .extend({
    client_name: clientName,
    public: z.boolean().optional().describe('a public client (PKCE, no secret)'),
    redirect_uris: z.array(uri).max(50).default([]).describe('exact redirect URIs (https; http for loopback only); none for a machine-only client'),
  })
  .meta({ id: 'CreateClient' });

export const CreatedClient = z
  .object({
    client: Client,
    client_secret: z.string().optional().describe('shown in this response only; absent for public clients'),
  })
  .meta({ id: 'CreatedClient' });

export const RotateSecret = z
  .strictObject({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(86_400)
      .describe('how long the replaced secret keeps working (0: not at all); default one day'),
  })
  .meta({ id: 'RotateSecret' });

export const RotatedSecret = z
  .object({
    client_id: z.string(),
    client_secret: z.string().describe('the new secret; shown in this response only'),
    previous_secret_expires_at: nullableTimestamp,
  })
  .meta({ id: 'RotatedSecret' });

export const ClientIdParams = z.strictObject({ client_id: id('client id') });

// ---- users -----------------------------------------------------------------

export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    email_verified: z.boolean(),
    name: z.string().nullable(),
    disabled: z.boolean(),
    created_at: timestamp,
    roles: z.array(z.string()).describe('changed with PUT/DELETE /users/{user_id}/roles/{role}; not part of the ETag'),
  })
  .meta({ id: 'User' });

export const userExample = {
  id: '6f1c1c8e-8a0e-4b55-9f6c-0d1d2f0f6a11',
  email: 'ada@example.com',
  email_verified: true,
  name: 'Ada',
  disabled: false,
  created_at: '2026-11-23T12:00:00.000Z',
  roles: ['auditor'],
};

export const RoleParams = z.strictObject({ user_id: id('user id'), role: id('role name') });

export const Roles = z.object({ id: z.string(), roles: z.array(z.string()), changed: z.boolean() }).meta({ id: 'Roles' });

export const CreateInvitation = z
  .strictObject({
    email: z.string().min(3).max(320),
    name: z.string().max(100).optional(),
    send: z.boolean().default(false).describe('also mail the link (needs SMTP_URL)'),
  })
  .meta({ id: 'CreateInvitation' });

export const Invitation = z
  .object({
    email: z.string(),
    url: z.string().describe('works once, until expires_at; shown in this response only'),
    expires_at: timestamp,
    mailed: z.boolean(),
  })
  .meta({ id: 'Invitation' });

const password = z.string().min(1, 'must not be empty').max(1000).describe('at least 8 characters, at most 72 bytes');

export const CreateUser = z
  .strictObject({
    email: z.string().min(3).max(320),
    password,
    name: z.string().max(200).optional(),
    email_verified: z.boolean().optional(),
  })
  .meta({ id: 'CreateUser' });

export const UpdateUser = z
  .strictObject({
    email: z.string().min(3).max(320).optional(),
    name: z.string().max(200).nullable().optional(),
    email_verified: z.boolean().optional(),
    disabled: z.boolean().optional().describe('disabling also ends their sessions and revokes their grants and stored tokens'),
  })
  .meta({ id: 'UpdateUser' });

export const SetPassword = z.strictObject({ password }).meta({ id: 'SetPassword' });

export const UserQuery = PageQuery.extend({
  email: z.string().min(1).max(320).optional().describe('only users whose email contains this (case-insensitive)'),
});

export const UserIdParams = z.strictObject({ user_id: id('user id') });

export const Session = z
  .object({
    id: z.string().describe('the stored session key (not the cookie value)'),
    signed_in_at: nullableTimestamp,
    expires_at: nullableTimestamp,
    amr: z.array(z.string()),
    acr: z.string().nullable(),
    client_ids: z.array(z.string()),
  })
  .meta({ id: 'Session' });

export const Sessions = z.object({ items: z.array(Session) }).meta({ id: 'Sessions' });
export const SessionsEnded = z.object({ sessions_ended: z.number().int() }).meta({ id: 'SessionsEnded' });

export const AuthorizedApp = z
  .object({
    grant_id: z.string(),
    client_id: z.string(),
    client_name: z.string(),
    scopes: z.array(z.string()),
    granted_at: nullableTimestamp,
  })
  .meta({ id: 'AuthorizedApp' });

export const AuthorizedApps = z.object({ items: z.array(AuthorizedApp) }).meta({ id: 'AuthorizedApps' });

// ---- service accounts --------------------------------------------------------

export const ServiceAccount = z
  .object({
    client_id: z.string(),
    name: z.string(),
    disabled: z.boolean(),
    grant_types: z.array(z.string()),
    scope: z.string(),
    default_scope: z.string(),
    self_signed_tokens: z.object({ max_lifetime: z.number().int() }).nullable(),
    credential: z.enum(['keys', 'shared_secret']),
    keys: z.array(z.object({ kid: z.string(), alg: z.string(), expires_at: nullableTimestamp })),
    created_at: timestamp,
  })
  .meta({ id: 'ServiceAccount' });

export const serviceAccountExample = {
  client_id: 'sa_Q2xp3nV8y1Kz0bLm',
  name: 'inventory-sync',
  disabled: false,
  grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer', 'client_credentials'],
  scope: 'cmdb.read cmdb.write',
  default_scope: 'cmdb.read',
  self_signed_tokens: null,
  credential: 'keys',
  keys: [{ kid: 'Yt0l0s3m1HcW6b7p8Lr7cJ2fX1u0q9a8s7d6f5g4h3j', alg: 'ES256', expires_at: null }],
  created_at: '2026-11-23T12:00:00.000Z',
};

const Jwk = z.record(z.string(), z.unknown()).describe('a public JWK');

export const CreateServiceAccount = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(200),
    scope: scope.describe('API scopes the account may request'),
    default_scope: scope.optional().describe('what it gets when it asks for none (default: all of scope)'),
    grant_types: z
      .array(z.enum(['jwt-bearer', 'client_credentials']))
      .min(1)
      .optional(),
    generate_key: z.enum(['ES256', 'RS256', 'EdDSA']).optional().describe('generate a key pair; the private key is in the response only'),
    jwks: z
      .object({ keys: z.array(Jwk).min(1).max(20) })
      .optional()
      .describe('public keys the account signs with'),
    shared_secret: z.boolean().optional().describe('generate an HS256 shared secret (jwt-bearer only); in the response only'),
    import_shared_secret: z.string().min(1).max(1000).optional().describe("a partner's existing HS256 secret to keep (stored encrypted, never shown again)"),
    client_id: z
      .string()
      .min(1)
      .max(200)
      .refine((v) => !isReservedClientId(v), 'must not start with "latchkey-": those ids are reserved for Latchkey\'s built-in clients')
      .optional()
      .describe("keep a partner's existing client id (not one starting with latchkey-)"),
    self_signed_max_lifetime: z
      .number()
      .int()
      .min(60)
      .max(86_400)
      .optional()
      .describe("accept the partner's self-signed tokens at introspection, at most this many seconds long"),
    key_expires_at: timestamp.optional(),
  })
  .meta({ id: 'CreateServiceAccount' });

export const CreatedServiceAccount = z
  .object({
    service_account: ServiceAccount,
    private_key: Jwk.optional().describe('with generate_key: shown in this response only, never stored'),
    shared_secret: z.string().optional().describe('with shared_secret: shown in this response only'),
  })
  .meta({ id: 'CreatedServiceAccount' });

export const UpdateServiceAccount = z.strictObject({ disabled: z.boolean() }).meta({ id: 'UpdateServiceAccount' });

export const AddKeys = z
  .strictObject({
    jwks: z.object({ keys: z.array(Jwk).min(1).max(20) }),
    expires_at: timestamp.optional(),
  })
  .meta({ id: 'AddKeys' });

export const AddedKeys = z.object({ client_id: z.string(), added: z.array(z.string()) }).meta({ id: 'AddedKeys' });

export const KeyParams = z.strictObject({ client_id: id('service account client id'), kid: id('key id') });

// ---- resources ---------------------------------------------------------------

const role = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be a role name: letters, digits, ".", "_", ":" or "-"');
const scopeRoles = z.record(z.string().min(1).max(200), z.array(role).max(50));

export const Resource = z
  .object({
    identifier: z.string(),
    scope: z.string(),
    format: z.enum(['jwt', 'opaque']),
    ttl: z.number().int(),
    claims: z.array(z.string()).describe('person claims its access tokens carry'),
    scope_roles: scopeRoles.describe('scopes a person holds only with one of the listed roles; scopes not listed any person may hold'),
    machines_only: z.boolean().describe("no person ever holds its scopes (tokens and keys for it are machines' only)"),
    created_at: timestamp,
  })
  .meta({ id: 'Resource' });

export const resourceExample = {
  identifier: 'https://api.example.com',
  scope: 'cmdb.read cmdb.write admin.users',
  format: 'jwt',
  ttl: 3600,
  claims: ['email', 'roles'],
  scope_roles: { 'cmdb.write': ['admin', 'ops'], 'admin.users': ['admin'] },
  machines_only: false,
  created_at: '2026-11-23T12:00:00.000Z',
};

const resourceFields = {
  scope: scope.describe('the scopes this API defines'),
  format: z.enum(['jwt', 'opaque']).optional(),
  ttl: z.number().int().min(60).max(86_400).optional().describe('access token lifetime, seconds'),
  claims: z.array(z.enum(PERSON_CLAIMS)).optional().describe('person claims to put in its access tokens'),
  machines_only: z.boolean().optional().describe('no person ever holds its scopes: for APIs only machines call (always true for the admin API)'),
};

export const CreateResource = z
  .strictObject({
    identifier: uri.describe('absolute URI, no fragment (RFC 8707)'),
    ...resourceFields,
    scope_roles: scopeRoles.optional().describe('restrict scopes to people with one of the listed roles, e.g. {"cmdb.write": ["admin", "ops"]}'),
  })
  .meta({ id: 'CreateResource' });

export const UpdateResource = z
  .strictObject({
    ...resourceFields,
    scope: resourceFields.scope.optional(),
    scope_roles: scopeRoles
      .optional()
      .describe(
        "changes the scopes it names only: a list replaces that scope's roles, an empty list lifts its restriction; scopes dropped from `scope` lose theirs",
      ),
  })
  .meta({ id: 'UpdateResource' });

export const Resources = z.object({ items: z.array(Resource) }).meta({ id: 'Resources' });

export const ResourceParams = z.strictObject({ identifier: uri.describe('the resource identifier, percent-encoded') });

// ---- signing keys -----------------------------------------------------------

export const SigningKey = z
  .object({
    kid: z.string(),
    alg: z.string(),
    state: z.enum(['next', 'active', 'retiring', 'retired']),
    created_at: nullableTimestamp,
    activates_at: nullableTimestamp,
    retires_at: nullableTimestamp,
    next_change: z.string().nullable(),
  })
  .meta({ id: 'SigningKey' });

export const SigningKeys = z.object({ items: z.array(SigningKey) }).meta({ id: 'SigningKeys' });

export const RotateSigningKey = z.strictObject({ alg: z.enum(['RS256', 'ES256', 'EdDSA']).default('RS256') }).meta({ id: 'RotateSigningKey' });

export const RotatedSigningKey = z
  .object({
    kid: z.string(),
    alg: z.string(),
    state: z.literal('next'),
    activates_at: timestamp,
  })
  .meta({ id: 'RotatedSigningKey' });

// ---- audit -------------------------------------------------------------------

export const AuditEvent = z
  .object({
    id: z.string(),
    at: timestamp,
    type: z.string(),
    actor: z.string().nullable().describe('service_account:<client id> or cli:<os user>, for administrative changes'),
    target: z.string().nullable(),
    user_id: z.string().nullable(),
    client_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    count: z.number().int().nullable().describe('for counted rows (tokens issued in an hour, suppressed failures)'),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEvent' });

export const auditExample = {
  id: '0b6a3c9e-4a5e-4c1e-9d4a-0f2f7c1e9b10',
  at: '2026-11-23T12:05:00.000Z',
  type: 'client.updated',
  actor: 'service_account:sa_Q2xp3nV8y1Kz0bLm',
  target: 'client:kX3v9q2LrN8pYw1mZt6b4A',
  user_id: null,
  client_id: 'kX3v9q2LrN8pYw1mZt6b4A',
  ip: '203.0.113.7',
  user_agent: 'terraform-provider-latchkey/1.0',
  count: null,
  detail: { client_name: { from: 'Billing', to: 'Billing (EU)' } },
};

// ---- imports (JSON Lines bodies) -------------------------------------------

export const ImportQuery = z
  .strictObject({
    dry_run: z.enum(['true', 'false']).optional().describe('check every line (and the database) and write nothing'),
    on_conflict: z
      .enum(['skip', 'update', 'fail'])
      .optional()
      .describe('what an existing person or app does: skip leaves it, update overwrites it from the line, fail (default) reports the line'),
  })
  .meta({ id: 'ImportQuery' });

export const ImportReport = z
  .object({
    dry_run: z.boolean(),
    created: z.number().int(),
    updated: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
    errors: z
      .array(
        z.object({
          line: z.number().int().describe('line number in the body, from 1'),
          field: z.string().describe('the field at fault, dotted, or "" for the whole line'),
          message: z.string().describe('what is wrong and how to fix it (never the value)'),
        }),
      )
      .describe('the first 1000 lines that could not be taken'),
    errors_truncated: z.boolean(),
  })
  .meta({ id: 'ImportReport', description: 'What an import did: counts, and each line it could not take with its number' });

export const importReportExample = {
  dry_run: false,
  created: 9998,
  updated: 0,
  skipped: 0,
  failed: 2,
  errors_truncated: false,
  errors: [
    { line: 812, field: 'password_hash', message: 'unknown format "$sha1$…"' },
    { line: 4020, field: 'email', message: 'the same address as line 17; each person once per file' },
  ],
};

// ---- service accounts: shared-secret rotation --------------------------------

export const RotateSharedSecret = z
  .strictObject({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86400)
      .default(86400)
      .describe('how long the replaced secret keeps working (0: not at all)'),
    shared_secret: z.string().min(20).max(512).optional().describe("the partner's new secret; omitted: one is generated and returned once"),
  })
  .meta({ id: 'RotateSharedSecret' });

export const RotatedSharedSecret = z
  .object({
    client_id: z.string(),
    shared_secret: z.string().optional().describe('the generated secret, in this response only'),
    previous_secret_expires_at: nullableTimestamp.describe('until when the replaced secret still works'),
  })
  .meta({ id: 'RotatedSharedSecret' });

export const ImportedApiKeyAnswer = z.object({ imported: z.boolean() }).meta({ id: 'ImportedApiKeyAnswer' });
