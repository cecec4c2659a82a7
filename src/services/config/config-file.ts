// Configuration as a file: every app, API (resource), service account and
// role as one document that operators keep in version control and apply per
// environment, as Keycloak's realm import or Terraform do. `export` writes
// what the server has (never a secret); `plan` compares a document with the
// server, object by object and field by field; `apply` carries the plan out
// through the same services as the CLI and the admin API, each object
// audited as one change. Applying the same document twice changes nothing.
//
// Order and atomicity: the whole document is validated first (its schema,
// then every object by the rules of its service, before any write), then
// written in dependency order (roles, resources, service accounts, apps;
// deletions in the reverse order). The administration service runs the
// writes and their audit records as one transaction: all of it, or nothing.
import * as z from 'zod';
import type { JWK } from 'jose';
import type { Db } from '../../db/database.ts';
import { AppError, invalidInput } from '../../errors.ts';
import type { Actor, AuditService, RequestMeta } from '../admin/audit.ts';
import type { ClientRecord, ClientService, CreateClientInput } from '../machines/clients.ts';
import type { ResourceServerRecord, ResourceServerService } from '../apis/resource-servers.ts';
import { JWT_BEARER, type ServiceAccountService, type ServiceAccountView, type ServiceGrant } from '../machines/service-accounts.ts';
import { isReservedClientId } from '../machines/built-in-clients.ts';
import { DEVICE_CODE_GRANT } from '../../config/env.ts';

const uriList = z.array(z.string().max(2000)).max(100);

export const ConfigClient = z.strictObject({
  client_id: z.string().min(1).max(128),
  client_name: z.string().min(1).max(200),
  public: z.boolean().default(false),
  redirect_uris: uriList.default([]),
  post_logout_redirect_uris: uriList.default([]),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT])).default([]),
  scope: z.string().max(2000).optional(),
  api_scope: z.string().max(2000).optional(),
  default_resource: z.string().max(2000).optional(),
  resource_servers: uriList.optional(),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
  id_token_signed_response_alg: z.enum(['RS256', 'ES256']).optional(),
  require_mfa: z.boolean().optional(),
  backchannel_logout_uri: z.string().max(2000).optional(),
  backchannel_logout_session_required: z.boolean().optional(),
  logo_uri: z.string().max(2000).optional(),
  client_uri: z.string().max(2000).optional(),
  policy_uri: z.string().max(2000).optional(),
  tos_uri: z.string().max(2000).optional(),
  client_secret_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional()
    .describe("a new confidential app's secret is read from this environment variable; otherwise one is generated and printed once"),
});

export const ConfigResource = z.strictObject({
  identifier: z.string().min(1).max(2000),
  scope: z.string().min(1).max(2000),
  format: z.enum(['jwt', 'opaque']).default('jwt'),
  ttl: z.number().int().positive(),
  claims: z.array(z.enum(['email', 'email_verified', 'name', 'roles'])).default([]),
  scope_roles: z.record(z.string(), z.array(z.string())).default({}),
  machines_only: z.boolean().default(false),
});

export const ConfigServiceAccount = z.strictObject({
  client_id: z.string().min(1).max(128),
  name: z.string().min(1).max(200),
  scope: z.string().min(1).max(2000),
  default_scope: z.string().max(2000).optional(),
  grant_types: z.array(z.enum(['jwt-bearer', 'client_credentials'])).optional(),
  disabled: z.boolean().default(false),
  keys: z.array(z.strictObject({ jwk: z.record(z.string(), z.unknown()), expires_at: z.string().nullable().default(null) })).default([]),
  shared_secret_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional()
    .describe('a new shared-secret account reads its secret from this environment variable'),
  self_signed_tokens: z.strictObject({ max_lifetime: z.number().int() }).nullable().default(null),
});

export const ConfigRole = z.strictObject({ name: z.string().min(1).max(64), description: z.string().max(500).default('') });

export const ConfigDocument = z
  .strictObject({
    latchkey_config: z.literal(1).describe('the version of this format'),
    roles: z.array(ConfigRole).default([]),
    resources: z.array(ConfigResource).default([]),
    service_accounts: z.array(ConfigServiceAccount).default([]),
    clients: z.array(ConfigClient).default([]),
  })
  .meta({
    title: 'Latchkey configuration',
    description: 'Apps, APIs, service accounts and roles of a Latchkey server (config export / config apply). Never secrets.',
  });

export type ConfigDoc = z.output<typeof ConfigDocument>;
type Client = z.output<typeof ConfigClient>;
type Resource = z.output<typeof ConfigResource>;
type Account = z.output<typeof ConfigServiceAccount>;
type Role = z.output<typeof ConfigRole>;

/** The JSON Schema editors validate the file with (published at /admin/api/v1/config.schema.json). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigDocument, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

const GRANT_NAMES: Record<string, ServiceGrant> = { 'jwt-bearer': JWT_BEARER, client_credentials: 'client_credentials' };
const grantName = (g: string) => (g === JWT_BEARER ? 'jwt-bearer' : g) as 'jwt-bearer' | 'client_credentials';

function clientOf(c: ClientRecord): Client {
  const m = c.metadata;
  return ConfigClient.parse({
    client_id: c.clientId,
    client_name: c.name,
    public: c.public,
    redirect_uris: m.redirect_uris,
    post_logout_redirect_uris: m.post_logout_redirect_uris,
    grant_types: m.grant_types.filter((g) => ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT].includes(g)),
    scope: m.scope,
    ...(m.api_scope ? { api_scope: m.api_scope } : {}),
    ...(m.default_resource ? { default_resource: m.default_resource } : {}),
    ...(m.resource_servers?.length ? { resource_servers: m.resource_servers } : {}),
    token_endpoint_auth_method: m.token_endpoint_auth_method,
    ...(m.id_token_signed_response_alg ? { id_token_signed_response_alg: m.id_token_signed_response_alg } : {}),
    ...(m.latchkey_require_mfa ? { require_mfa: true } : {}),
    ...(m.backchannel_logout_uri ? { backchannel_logout_uri: m.backchannel_logout_uri } : {}),
    ...(m.backchannel_logout_session_required ? { backchannel_logout_session_required: true } : {}),
    ...(m.logo_uri ? { logo_uri: m.logo_uri } : {}),
    ...(m.client_uri ? { client_uri: m.client_uri } : {}),
    ...(m.policy_uri ? { policy_uri: m.policy_uri } : {}),
    ...(m.tos_uri ? { tos_uri: m.tos_uri } : {}),
  });
}

const resourceOf = (r: ResourceServerRecord): Resource => ({
  identifier: r.identifier,
  scope: r.scope,
  format: r.format,
  ttl: r.ttl,
  claims: [...r.claims],
  scope_roles: r.scopeRoles,
  machines_only: r.machinesOnly,
});

const accountOf = (a: ServiceAccountView): Account => ({
  client_id: a.clientId,
  name: a.name,
  scope: a.metadata.scope,
  default_scope: a.metadata.default_scope,
  grant_types: a.metadata.grant_types.map(grantName),
  disabled: a.disabled,
  keys: a.keys.map((k) => ({ jwk: k.jwk as Record<string, unknown>, expires_at: k.expiresAt?.toISOString() ?? null })),
  self_signed_tokens: a.metadata.self_signed_tokens ?? null,
});

function clientInput(c: Client): CreateClientInput {
  return {
    name: c.client_name,
    redirectUris: c.redirect_uris,
    postLogoutRedirectUris: c.post_logout_redirect_uris,
    public: c.public,
    scope: c.scope,
    tokenEndpointAuthMethod: c.token_endpoint_auth_method === 'none' ? undefined : c.token_endpoint_auth_method,
    idTokenAlg: c.id_token_signed_response_alg,
    clientCredentials: c.grant_types.includes('client_credentials'),
    apiScope: c.api_scope,
    resourceServers: c.resource_servers,
    requireMfa: c.require_mfa,
    defaultResource: c.default_resource,
    deviceFlow: c.grant_types.includes(DEVICE_CODE_GRANT),
    backchannelLogoutUri: c.backchannel_logout_uri,
    backchannelLogoutSessionRequired: c.backchannel_logout_session_required,
    logoUri: c.logo_uri,
    clientUri: c.client_uri,
    policyUri: c.policy_uri,
    tosUri: c.tos_uri,
  };
}

/** One line of the plan: `+ client "Billing" (new)`, `~ resource https://cmdb.example.com: ttl 3600 → 900`, `- role auditor`. */
export interface PlanItem {
  op: '+' | '~' | '-';
  kind: 'role' | 'resource' | 'service_account' | 'client';
  id: string;
  label: string;
  /** Changed fields: before and after (never a secret). */
  changes: Record<string, { from: unknown; to: unknown }>;
}

export const describePlanItem = (p: PlanItem) => {
  const what = `${p.kind.replace('_', ' ')} ${p.label}`;
  if (p.op === '+') return `+ ${what} (new)`;
  if (p.op === '-') return `- ${what}`;
  const show = (v: unknown) =>
    v === undefined || v === null ? '(none)' : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return `~ ${what}: ${Object.entries(p.changes)
    .map(([k, { from, to }]) => `${k} ${show(from)} → ${show(to)}`)
    .join(', ')}`;
};

function diff<T extends Record<string, unknown>>(current: T, wanted: T, ignore: string[] = []): PlanItem['changes'] {
  const out: PlanItem['changes'] = {};
  for (const key of new Set([...Object.keys(current), ...Object.keys(wanted)])) {
    if (ignore.includes(key)) continue;
    const a = current[key];
    const b = wanted[key];
    if (b === undefined) continue; // not said in the file: left as it is
    if (JSON.stringify(a) !== JSON.stringify(b)) out[key] = { from: a, to: b };
  }
  return out;
}

/**
 * What is compared, per kind: an app's grants only as far as the file decides
 * them (client_credentials, the device grant; the others follow from its redirect URIs and
 * scope), a service account's keys by kid and expiry (the stored JWK is
 * normalized). Otherwise a file written by hand would differ on every apply.
 */
function comparable(kind: PlanItem['kind'], item: Record<string, unknown>): Record<string, unknown> {
  if (kind === 'client')
    return { ...item, grant_types: (item.grant_types as string[] | undefined)?.filter((g) => g === 'client_credentials' || g === DEVICE_CODE_GRANT) };
  if (kind === 'service_account') {
    const keys = (item.keys as { jwk: Record<string, unknown>; expires_at: string | null }[] | undefined)?.map((k) => ({
      kid: k.jwk.kid,
      expires_at: k.expires_at ? new Date(k.expires_at).toISOString() : null,
    }));
    return { ...item, keys };
  }
  return item;
}

export interface ConfigServiceDeps {
  db: Db;
  clients: ClientService;
  resources: ResourceServerService;
  serviceAccounts: ServiceAccountService;
  audit: AuditService;
  /** Resources and clients Latchkey makes itself (the admin API's resource, built-in clients): neither exported nor pruned. */
  builtInResources: readonly string[];
}

export interface ApplyResult {
  dry_run: boolean;
  plan: PlanItem[];
  /** Secrets generated for new apps and accounts, printed once (not for those read from the environment). */
  secrets: { kind: 'client' | 'service_account'; id: string; secret: string }[];
}

export function createConfigService({ db, clients, resources, serviceAccounts, audit, builtInResources }: ConfigServiceDeps) {
  const builtIn = new Set(builtInResources);

  async function current(): Promise<ConfigDoc> {
    const [roleRows, resourceRows, accounts, apps] = await Promise.all([
      db.role.findMany({ orderBy: { name: 'asc' } }),
      resources.list(),
      serviceAccounts.list(),
      clients.list(),
    ]);
    const named = new Set(roleRows.map((r) => r.name));
    // Roles only named by a resource's scope_roles are roles too.
    const implied = resourceRows.flatMap((r) => Object.values(r.scopeRoles).flat()).filter((n) => !named.has(n));
    return {
      latchkey_config: 1,
      roles: [
        ...roleRows.map((r) => ({ name: r.name, description: r.description })),
        ...[...new Set(implied)].sort().map((name) => ({ name, description: '' })),
      ],
      resources: resourceRows.filter((r) => !builtIn.has(r.identifier)).map(resourceOf),
      service_accounts: accounts.map(accountOf),
      clients: apps.filter((c) => !isReservedClientId(c.clientId)).map(clientOf),
    };
  }

  function parse(input: unknown): ConfigDoc {
    const parsed = ConfigDocument.safeParse(input);
    if (!parsed.success) {
      const first = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`);
      throw invalidInput(`the configuration file is not valid: ${first.join('; ')}`);
    }
    const doc = parsed.data;
    const dup = (what: string, ids: string[]) => {
      const seen = new Set<string>();
      for (const id of ids) {
        if (seen.has(id)) throw invalidInput(`the configuration file names ${what} ${id} twice`);
        seen.add(id);
      }
    };
    dup(
      'role',
      doc.roles.map((r) => r.name),
    );
    dup(
      'resource',
      doc.resources.map((r) => r.identifier),
    );
    dup('client id', [...doc.service_accounts.map((a) => a.client_id), ...doc.clients.map((c) => c.client_id)]);
    return doc;
  }

  /** `keep`: never pruned (the admin account applying the file: it would lock itself out). */
  function planOf(have: ConfigDoc, want: ConfigDoc, prune: boolean, keep?: string): PlanItem[] {
    const plan: PlanItem[] = [];
    const byId = <T>(items: T[], key: (t: T) => string) => new Map(items.map((i) => [key(i), i]));
    const sections = [
      ['role', have.roles, want.roles, (r: Role) => r.name, (r: Role) => r.name],
      ['resource', have.resources, want.resources, (r: Resource) => r.identifier, (r: Resource) => r.identifier],
      ['service_account', have.service_accounts, want.service_accounts, (a: Account) => a.client_id, (a: Account) => `"${a.name}" (${a.client_id})`],
      ['client', have.clients, want.clients, (c: Client) => c.client_id, (c: Client) => `"${c.client_name}" (${c.client_id})`],
    ] as const;
    for (const [kind, haveItems, wantItems, key, label] of sections) {
      const existing = byId<Record<string, unknown>>(
        haveItems as unknown as Record<string, unknown>[],
        key as unknown as (t: Record<string, unknown>) => string,
      );
      for (const item of wantItems as unknown as Record<string, unknown>[]) {
        const id = (key as unknown as (t: Record<string, unknown>) => string)(item);
        const lbl = (label as unknown as (t: Record<string, unknown>) => string)(item);
        const now = existing.get(id);
        if (!now) plan.push({ op: '+', kind, id, label: lbl, changes: {} });
        else {
          const changes = diff(comparable(kind, now), comparable(kind, item), ['client_secret_env', 'shared_secret_env']);
          if (Object.keys(changes).length) plan.push({ op: '~', kind, id, label: lbl, changes });
        }
      }
      if (prune) {
        const wanted = new Set((wantItems as unknown as Record<string, unknown>[]).map(key as unknown as (t: Record<string, unknown>) => string));
        for (const [id, item] of existing)
          if (!wanted.has(id) && !(kind === 'service_account' && id === keep))
            plan.push({ op: '-', kind, id, label: (label as unknown as (t: Record<string, unknown>) => string)(item), changes: {} });
      }
    }
    return plan;
  }

  async function applyItem(
    item: PlanItem,
    want: ConfigDoc,
    env: Record<string, string | undefined>,
    result: ApplyResult,
    actor: Actor,
    meta: RequestMeta,
  ): Promise<void> {
    const target = { kind: item.kind, id: item.id };
    const audited = (action: Parameters<AuditService['recordChange']>[1], changes: Record<string, unknown>) =>
      audit.recordChange(
        actor,
        action,
        item.kind === 'client' || item.kind === 'service_account' ? { ...target, clientId: item.id } : target,
        { ...changes, via: 'config apply' },
        meta,
      );
    const changesOf = () => Object.fromEntries(Object.entries(item.changes).map(([k, v]) => [k, v.to]));
    switch (item.kind) {
      case 'role': {
        const role = want.roles.find((r) => r.name === item.id);
        if (item.op === '-') {
          // deleteMany: a role already gone is no error (a failed statement would end a PostgreSQL transaction).
          await db.role.deleteMany({ where: { name: item.id } });
          return audited('role.deleted', {});
        }
        await db.role.upsert({
          where: { name: item.id },
          create: { name: item.id, description: role!.description },
          update: { description: role!.description },
        });
        return audited(item.op === '+' ? 'role.created' : 'role.updated', item.op === '+' ? { description: role!.description } : changesOf());
      }
      case 'resource': {
        const r = want.resources.find((x) => x.identifier === item.id);
        if (item.op === '-') {
          await resources.delete(item.id);
          return audited('resource.deleted', {});
        }
        const input = {
          scope: r!.scope,
          format: r!.format,
          ttl: r!.ttl,
          claims: r!.claims.join(' '),
          scopeRoles: r!.scope_roles,
          machinesOnly: r!.machines_only,
        };
        if (item.op === '+') await resources.create({ identifier: r!.identifier, ...input });
        else {
          // scope_roles is merged by the service: a scope dropped from the file's map is cleared explicitly.
          const before = (await resources.get(item.id)).scopeRoles;
          const cleared = Object.fromEntries(
            Object.keys(before)
              .filter((s) => !(s in r!.scope_roles))
              .map((s) => [s, [] as string[]]),
          );
          await resources.update(item.id, { ...input, scopeRoles: { ...cleared, ...r!.scope_roles } });
        }
        return audited(
          item.op === '+' ? 'resource.created' : 'resource.updated',
          item.op === '+' ? { ...resourceOf(await resources.get(item.id)) } : changesOf(),
        );
      }
      case 'service_account': {
        const a = want.service_accounts.find((x) => x.client_id === item.id);
        if (item.op === '-') {
          await serviceAccounts.delete(item.id);
          return audited('service_account.deleted', {});
        }
        const grants = a!.grant_types?.map((g) => GRANT_NAMES[g]!);
        if (item.op === '+') {
          let secret: string | undefined;
          if (a!.shared_secret_env) {
            secret = env[a!.shared_secret_env];
            if (!secret) throw invalidInput(`service account ${a!.client_id}: the environment variable ${a!.shared_secret_env} is not set`);
          }
          const byKey = a!.keys.length > 0;
          const created = await serviceAccounts.create({
            name: a!.name,
            scope: a!.scope,
            defaultScope: a!.default_scope,
            grants,
            clientId: a!.client_id,
            ...(secret ? { importedSecret: secret } : byKey ? { jwks: a!.keys.map((k) => k.jwk as JWK) } : { sharedSecret: true }),
            ...(a!.self_signed_tokens ? { selfSignedMaxLifetime: a!.self_signed_tokens.max_lifetime } : {}),
          });
          if (created.sharedSecret) result.secrets.push({ kind: 'service_account', id: a!.client_id, secret: created.sharedSecret });
          if (a!.disabled) await serviceAccounts.setDisabled(a!.client_id, true);
          return audited('service_account.created', { name: a!.name, scope: a!.scope, keys: a!.keys.map((k) => k.jwk.kid) });
        }
        const c = item.changes;
        if (c.scope || c.default_scope || c.grant_types || c.self_signed_tokens) {
          await serviceAccounts.updateAccess(item.id, {
            scope: a!.scope,
            defaultScope: a!.default_scope,
            grants,
            selfSignedMaxLifetime: a!.self_signed_tokens?.max_lifetime ?? null,
          });
        }
        if (c.keys) {
          const have = new Map((await serviceAccounts.get(item.id)).keys.map((k) => [k.kid, k]));
          const wanted = new Map(a!.keys.map((k) => [String(k.jwk.kid), k]));
          const added = a!.keys.filter((k) => !have.has(String(k.jwk.kid)));
          for (const k of added) await serviceAccounts.addKeys(item.id, [k.jwk as JWK], k.expires_at ? new Date(k.expires_at) : undefined);
          for (const kid of have.keys()) if (!wanted.has(kid)) await serviceAccounts.removeKey(item.id, kid);
        }
        if (c.disabled) await serviceAccounts.setDisabled(item.id, a!.disabled);
        if (c.name) throw invalidInput(`service account ${item.id}: its name cannot be changed by a configuration file yet`);
        return audited('service_account.updated', changesOf());
      }
      case 'client': {
        const c = want.clients.find((x) => x.client_id === item.id);
        if (item.op === '-') {
          await clients.delete(item.id);
          return audited('client.deleted', {});
        }
        if (item.op === '+') {
          let secret: string | undefined;
          if (c!.client_secret_env && !c!.public) {
            secret = env[c!.client_secret_env];
            if (!secret) throw invalidInput(`client ${c!.client_id}: the environment variable ${c!.client_secret_env} is not set`);
          }
          const { clientSecret } = await clients.create(clientInput(c!), { clientId: c!.client_id, ...(secret ? { secret } : {}) });
          if (clientSecret) result.secrets.push({ kind: 'client', id: c!.client_id, secret: clientSecret });
          const { client_secret_env: _e, ...fields } = c!;
          return audited('client.created', fields);
        }
        if ('public' in item.changes) throw invalidInput(`client ${item.id}: an existing app cannot change between public and confidential`);
        const { public: _p, ...fields } = clientInput(c!);
        // A field the file leaves out is left as it is (undefined would clear it).
        await clients.update(item.id, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
        return audited('client.updated', changesOf());
      }
    }
  }

  /** Checks what would be created without writing (each service's own rules). */
  async function check(plan: PlanItem[], want: ConfigDoc, env: Record<string, string | undefined>): Promise<void> {
    for (const item of plan) {
      if (item.op === '-') continue;
      try {
        if (item.kind === 'client') {
          const c = want.clients.find((x) => x.client_id === item.id)!;
          if (item.op === '+') {
            const secret = c.client_secret_env && !c.public ? env[c.client_secret_env] : undefined;
            if (c.client_secret_env && !c.public && !secret) throw invalidInput(`the environment variable ${c.client_secret_env} is not set`);
            // Resources this file creates do not exist yet: what names them is checked when it is written.
            const creates = new Set(plan.filter((p) => p.kind === 'resource' && p.op === '+').map((p) => p.id));
            const names = [c.default_resource, ...(c.resource_servers ?? [])].some((r) => r !== undefined && creates.has(r));
            const input = clientInput(c);
            await clients.check(names ? { ...input, apiScope: undefined, defaultResource: undefined, resourceServers: undefined } : input, {
              clientId: c.client_id,
              ...(secret ? { secret } : {}),
            });
          }
        } else if (item.kind === 'service_account') {
          const a = want.service_accounts.find((x) => x.client_id === item.id)!;
          if (item.op === '+' && a.shared_secret_env && !env[a.shared_secret_env])
            throw invalidInput(`the environment variable ${a.shared_secret_env} is not set`);
          if (item.op === '~' && item.changes.name) throw invalidInput('its name cannot be changed by a configuration file yet');
        }
      } catch (err) {
        if (err instanceof AppError) throw new AppError(err.code, `${item.kind.replace('_', ' ')} ${item.id}: ${err.message}`);
        throw err;
      }
    }
  }

  return {
    /** Every app, resource, service account and role: the document `apply` takes back. Never a secret. */
    export: current,
    parse,
    async plan(input: unknown, opts: { prune?: boolean } = {}): Promise<PlanItem[]> {
      return planOf(await current(), parse(input), Boolean(opts.prune));
    },
    /**
     * Makes the server match `input`: creates and updates what differs,
     * deletes what the file lacks only with `prune`. Validated whole before
     * the first write; `dryRun` stops there.
     */
    async apply(
      input: unknown,
      actor: Actor,
      opts: { dryRun?: boolean; prune?: boolean; env?: Record<string, string | undefined> } = {},
      meta: RequestMeta = {},
    ): Promise<ApplyResult> {
      const want = parse(input);
      const plan = planOf(await current(), want, Boolean(opts.prune), actor.kind === 'service_account' ? actor.clientId : undefined);
      const env = opts.env ?? {};
      const result: ApplyResult = { dry_run: Boolean(opts.dryRun), plan, secrets: [] };
      await check(plan, want, env);
      if (opts.dryRun || !plan.length) return result;
      const rank = { role: 0, resource: 1, service_account: 2, client: 3 } as const;
      const ordered = [
        ...plan.filter((p) => p.op !== '-').sort((a, b) => rank[a.kind] - rank[b.kind]),
        ...plan.filter((p) => p.op === '-').sort((a, b) => rank[b.kind] - rank[a.kind]),
      ];
      for (const item of ordered) {
        try {
          await applyItem(item, want, env, result, actor, meta);
        } catch (err) {
          if (err instanceof AppError) throw new AppError(err.code, `${describePlanItem(item)}: ${err.message}`);
          throw err;
        }
      }
      await audit.recordChange(
        actor,
        'config.applied',
        { kind: 'config', id: 'apply' },
        {
          created: plan.filter((p) => p.op === '+').length,
          updated: plan.filter((p) => p.op === '~').length,
          deleted: plan.filter((p) => p.op === '-').length,
        },
        meta,
      );
      return result;
    },
  };
}

export type ConfigService = ReturnType<typeof createConfigService>;
