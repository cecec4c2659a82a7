// Every administrative operation, for the admin API and the admin CLI alike:
// the same services underneath, the same audit record on top. Both callers
// are thin — they parse their input, call one of these, and print or send the
// result — so a rule (and the audit of it) lives here once.
//
// What the audit trail gets: the actor, the action, the target and the fields
// that changed (old and new values); for secrets and passwords only that
// they were set, never a value or a hash. A change and its audit record are
// written in one transaction: a change that cannot be recorded is not made.
import type { JWK } from 'jose';
import type { Db } from '../../db/database.ts';
import { conflict, notFound } from '../../errors.ts';
import type { Actor, AuditFilter, AuditService, RequestMeta } from './audit.ts';
import type { AccountLinkService } from '../links/account-links.ts';
import type { ApiKeyFilter, ApiKeyService, CreateApiKeyInput } from '../api-keys/api-keys.ts';
import type { ClientRecord, ClientService, CreateClientInput } from '../machines/clients.ts';
import type { PageRequest } from './pagination.ts';
import type { ResourceChanges, ResourceInput, ResourceServerRecord, ResourceServerService } from '../apis/resource-servers.ts';
import type { SecondFactorService } from '../factors/second-factor.ts';
import type { PasskeyService } from '../factors/passkeys.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import {
  generateAccountKey,
  type GENERATED_KEY_ALGS,
  JWT_BEARER,
  SERVICE_ACCOUNT,
  type ServiceAccountService,
  type ServiceAccountView,
  type ServiceGrant,
} from '../machines/service-accounts.ts';
import { keyStatus, rotateSigningKey, type SigningAlg } from '../secrets/signing-keys.ts';
import { rewrapSecrets } from '../secrets/kek-rotation.ts';
import type { UserSessionService } from '../people/user-sessions.ts';
import type { PublicUser, UserChanges, UserService } from '../people/users.ts';
import type { Clock } from '../../clock.ts';
import type { ImportOptions, UserImporter } from '../people/user-import.ts';
import type { ClientImporter } from '../machines/client-import.ts';
import type { ApiKeyImporter } from '../api-keys/api-key-import.ts';
import type { ConfigService } from '../config/config-file.ts';
import type { ImportApiKeyInput } from '../api-keys/api-keys.ts';
import type { ImportReport, JsonLine } from './json-lines.ts';

/** The scope that allows every admin API call; the read scope allows reads only. */
export const ADMIN_SCOPE = 'latchkey:admin';
export const ADMIN_READ_SCOPE = 'latchkey:admin:read';
/** Every path of the admin API is under this prefix (its operations under ADMIN_API_PATH). */
export const ADMIN_API_PREFIX = '/admin/api';
export const ADMIN_API_PATH = `${ADMIN_API_PREFIX}/v1`;
/** The admin API's resource identifier (the audience of its tokens). */
export const adminApiResource = (issuer: string) => `${issuer}${ADMIN_API_PATH}`;
/** Admin tokens are short-lived: a leaked one is useful for minutes. */
export const ADMIN_TOKEN_TTL = 600;

export interface AdministrationDeps {
  issuer: string;
  keyRotationDelay: number;
  db: Db;
  box: SecretBox;
  audit: AuditService;
  clients: ClientService;
  users: UserService;
  sessions: UserSessionService;
  secondFactor: SecondFactorService;
  passkeys: Pick<PasskeyService, 'removeAll'>;
  serviceAccounts: ServiceAccountService;
  resources: ResourceServerService;
  accountLinks: AccountLinkService;
  apiKeys: ApiKeyService;
  /**
   * The importers and the configuration file, each made at its first use: their
   * shapes (some 340 zod schemas) serve operators' imports and `config apply`,
   * which a node serving tokens never runs (bench/README.md, "Stop 42").
   */
  userImporter: () => Promise<UserImporter>;
  clientImporter: () => Promise<ClientImporter>;
  apiKeyImporter: () => Promise<ApiKeyImporter>;
  /** Apps, APIs, service accounts and roles as one file (src/services/config/config-file.ts). */
  configFile: () => Promise<ConfigService>;
  /** The wire shape of each object, whose fields the audit trail names when they change. */
  describe: AuditViews;
  clock: Clock;
  /**
   * Runs fn in one database transaction, which every service's writes made
   * inside it join (src/db/transactions.ts): a change and its audit record
   * commit together or not at all.
   */
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
}

/**
 * How the audit trail names what changed: by the fields of each object's wire
 * shape (src/api/views.ts), so that an audit record speaks the language of
 * the admin API and the CLI's --json. Handed in by the composition root: the
 * service layer never imports the API layer.
 */
export interface AuditViews {
  client(c: ClientRecord): Record<string, unknown>;
  user(u: PublicUser): Record<string, unknown>;
  serviceAccount(a: ServiceAccountView): Record<string, unknown>;
  resource(r: ResourceServerRecord): Record<string, unknown>;
}

type Precondition<T> = ((current: T) => void) | undefined;

/** Fields whose value differs, as { field: { from, to } }. */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  ignore: string[] = [],
): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (ignore.includes(key)) continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) out[key] = { from: before[key] ?? null, to: after[key] ?? null };
  }
  return out;
}

const withoutUndefined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
const CLIENT_VOLATILE = ['created_at', 'updated_at', 'client_secrets'];

export function createAdministration(deps: AdministrationDeps) {
  const { audit, clients, users, sessions, secondFactor, serviceAccounts, resources } = deps;
  const atomic = deps.transaction;
  const { client: clientView, user: userView, serviceAccount: serviceAccountView, resource: resourceView } = deps.describe;
  const clientTarget = (id: string) => ({ kind: 'client', id, clientId: id });
  const userTarget = (id: string) => ({ kind: 'user', id, userId: id });
  const accountTarget = (id: string) => ({ kind: 'service_account', id, clientId: id });
  /** A change to a service account and its `service_account.updated` record (the fields it changed), in one transaction. */
  const updateAccount = (actor: Actor, id: string, change: (before: ServiceAccountView) => Promise<ServiceAccountView | undefined>, meta?: RequestMeta) =>
    atomic(async () => {
      const before = await serviceAccounts.get(id);
      const after = (await change(before)) ?? (await serviceAccounts.get(id));
      await audit.recordChange(actor, 'service_account.updated', accountTarget(id), changedFields(serviceAccountView(before), serviceAccountView(after)), meta);
      return after;
    });

  const admin = {
    /** The time its rules read (src/clock.ts): what a key's `active` or a signing key's next change is said against. */
    clock: deps.clock,

    /** `config export` / `config apply` (each object audited as one change, plus `config.applied`). */
    config: {
      export: async () => (await deps.configFile()).export(),
      /** The whole file with every audit record, or nothing: one transaction (a dry run writes nothing anyway). */
      apply: async (...args: Parameters<ConfigService['apply']>) => {
        const configFile = await deps.configFile();
        return atomic(() => configFile.apply(...args));
      },
    },

    clients: {
      list: () => clients.list(),
      page: (req: PageRequest) => clients.page(req),
      get: (id: string) => clients.get(id),

      async create(actor: Actor, input: CreateClientInput, meta?: RequestMeta) {
        return atomic(async () => {
          const created = await clients.create(input);
          const { client_id: _id, created_at: _c, updated_at: _u, client_secrets: _s, ...fields } = clientView(created.client);
          await audit.recordChange(actor, 'client.created', clientTarget(created.client.clientId), fields, meta);
          return created;
        });
      },

      async update(
        actor: Actor,
        id: string,
        changes: Partial<Omit<CreateClientInput, 'public'>>,
        precondition?: Precondition<ClientRecord>,
        meta?: RequestMeta,
      ) {
        return atomic(async () => {
          let before: ClientRecord | undefined;
          const after = await clients.update(id, withoutUndefined(changes), (current) => {
            before = current;
            precondition?.(current);
          });
          await audit.recordChange(actor, 'client.updated', clientTarget(id), changedFields(clientView(before!), clientView(after), CLIENT_VOLATILE), meta);
          return after;
        });
      },

      async delete(actor: Actor, id: string, precondition?: Precondition<ClientRecord>, meta?: RequestMeta) {
        return atomic(async () => {
          await clients.delete(id, precondition);
          await audit.recordChange(actor, 'client.deleted', clientTarget(id), undefined, meta);
        });
      },

      async rotateSecret(actor: Actor, id: string, overlapSeconds: number, precondition?: Precondition<ClientRecord>, meta?: RequestMeta) {
        return atomic(async () => {
          const rotated = await clients.rotateSecret(id, overlapSeconds, precondition);
          await audit.recordChange(
            actor,
            'client.secret_rotated',
            clientTarget(id),
            {
              client_secret: 'replaced',
              previous_secret_expires_at: rotated.client.secrets.previous?.expiresAt.toISOString() ?? null,
            },
            meta,
          );
          return rotated;
        });
      },

      /** Apps from another product with their ids and secrets (src/services/machines/client-import.ts); each audited `client.imported`. */
      async import(actor: Actor, lines: AsyncIterable<JsonLine>, opts: ImportOptions = {}, meta?: RequestMeta): Promise<ImportReport> {
        const report = await (await deps.clientImporter()).run(lines, actor, opts, meta);
        if (!report.dry_run && report.created + report.updated > 0) {
          await audit.recordChange(
            actor,
            'clients.imported',
            { kind: 'clients', id: 'import' },
            { created: report.created, updated: report.updated, skipped: report.skipped, failed: report.failed },
            meta,
          );
        }
        return report;
      },
    },

    users: {
      list: () => users.list(),
      page: (req: PageRequest & { email?: string; search?: string }) => users.page(req),
      get: (id: string) => users.get(id),

      /** Without `password`: an account nobody can sign in to until its person sets one (passwordLink). */
      async create(actor: Actor, input: { email: string; password?: string; name?: string; emailVerified?: boolean }, meta?: RequestMeta) {
        const checked = await users.checkNew(input);
        return atomic(async () => {
          const user = await users.createWithHash(checked);
          await audit.recordChange(
            actor,
            'user.created',
            userTarget(user.id),
            { email: user.email, name: user.name, email_verified: user.emailVerified, password: input.password === undefined ? 'none' : 'set' },
            meta,
          );
          return user;
        });
      },

      async update(actor: Actor, id: string, changes: UserChanges, precondition?: Precondition<PublicUser>, meta?: RequestMeta) {
        return atomic(async () => {
          let before: PublicUser | undefined;
          const after = await users.update(id, withoutUndefined(changes), (current) => {
            before = current;
            precondition?.(current);
          });
          await audit.recordChange(actor, 'user.updated', userTarget(id), changedFields(userView(before!), userView(after)), meta);
          return after;
        });
      },

      /**
       * People from another product, a line each (src/services/people/user-import.ts): each
       * person's import is audited (`user.imported`), and the run as a whole (`users.imported`).
       */
      async import(actor: Actor, lines: AsyncIterable<JsonLine>, opts: ImportOptions = {}, meta?: RequestMeta): Promise<ImportReport> {
        const report = await (await deps.userImporter()).run(lines, actor, opts, meta);
        // A run that changed nothing (a second run of the same file) leaves no trace either.
        if (!report.dry_run && report.created + report.updated > 0) {
          await audit.recordChange(
            actor,
            'users.imported',
            { kind: 'users', id: 'import' },
            {
              created: report.created,
              updated: report.updated,
              skipped: report.skipped,
              failed: report.failed,
              on_conflict: opts.onConflict ?? 'fail',
            },
            meta,
          );
        }
        return report;
      },

      async setPassword(actor: Actor, id: string, password: string, meta?: RequestMeta) {
        const passwordHash = await users.hashNewPassword(password);
        return atomic(async () => {
          await users.setPasswordHash(id, passwordHash);
          await audit.recordChange(actor, 'user.password_set', userTarget(id), { password: 'set' }, meta);
        });
      },

      /**
       * Removes the authenticator app, the recovery codes and every passkey (a lost
       * or stolen device): the person signs in with their password alone, and is
       * asked to set up a second factor again where one is required.
       */
      async resetSecondFactor(actor: Actor, id: string, meta?: RequestMeta) {
        return atomic(async () => {
          await users.get(id);
          await secondFactor.remove(id);
          const passkeys = await deps.passkeys.removeAll(id);
          await audit.recordChange(actor, 'user.mfa_reset', userTarget(id), { totp: 'removed', passkeys_removed: passkeys }, meta);
          return { passkeysRemoved: passkeys };
        });
      },

      /**
       * A link with which the person chooses a new password (the reset page),
       * for an administrator to hand over: the administrator never knows the
       * password. Using it ends the person's sessions and revokes their keys,
       * as any password reset does. The link is in this answer only.
       */
      async passwordLink(actor: Actor, id: string, meta: RequestMeta = {}) {
        return atomic(async () => {
          const link = await deps.accountLinks.passwordLink(id);
          await audit.recordChange(actor, 'user.password_link_created', userTarget(id), { expires_at: link.expiresAt.toISOString() }, meta);
          return link;
        });
      },

      roles: (id: string) => users.roles(id),

      /** Adds or removes a role; false when it was already there (or absent): nothing changes, nothing is recorded. */
      async setRole(actor: Actor, id: string, role: string, present: boolean, meta?: RequestMeta) {
        return atomic(async () => {
          await users.get(id);
          const changed = present ? await users.addRole(id, role) : await users.removeRole(id, role);
          if (changed) await audit.recordChange(actor, present ? 'role_added' : 'role_removed', userTarget(id), { role }, meta);
          return changed;
        });
      },

      /**
       * The first administrator of the console, from a shell: gives the person
       * with this address `role`. Refused once an enabled person holds it (further
       * ones are given the role by an administrator), as the service-account bootstrap is.
       */
      async bootstrapAdministrator(actor: Actor, email: string, role: string, meta?: RequestMeta) {
        return atomic(async () => {
          const existing = await users.enabledHolderOf(role);
          if (existing) throw conflict(`an administrator already exists (${existing.email}); give the role ${role} to others in the admin console`);
          const person = await users.findByEmail(email);
          if (!person) throw notFound(`a person with the email ${email}`);
          if (person.disabled) throw conflict(`${person.email} is disabled; enable them first (user enable ${person.id})`);
          await users.addRole(person.id, role);
          await audit.recordChange(actor, 'admin.bootstrapped', userTarget(person.id), { role }, meta);
          return person;
        });
      },

      /** An invitation link (works once); mailed too when `send`. The link is in this answer only. */
      async invite(actor: Actor, input: { email: string; name?: string }, send: boolean, meta: RequestMeta = {}) {
        const invitation = await atomic(() => deps.accountLinks.invite(input, { ...meta, actor }));
        if (send) await deps.accountLinks.mailInvitation(invitation, input.name);
        return invitation;
      },

      async listSessions(id: string) {
        await users.get(id);
        return sessions.listSessions(id);
      },

      async endSession(actor: Actor, id: string, sessionId: string, meta?: RequestMeta) {
        return atomic(async () => {
          await sessions.endSession(id, sessionId);
          await audit.recordChange(actor, 'user.sessions_ended', userTarget(id), { session: sessionId }, meta);
        });
      },

      async endAllSessions(actor: Actor, id: string, meta?: RequestMeta) {
        return atomic(async () => {
          await users.get(id);
          const ended = await sessions.endAllSessions(id);
          await audit.recordChange(actor, 'user.sessions_ended', userTarget(id), { sessions: ended }, meta);
          return ended;
        });
      },

      async listApps(id: string) {
        await users.get(id);
        return sessions.authorizedApps(id);
      },

      async revokeApp(actor: Actor, id: string, grantId: string, meta?: RequestMeta) {
        return atomic(async () => {
          const clientId = await sessions.revokeApp(id, grantId);
          if (!clientId) throw notFound(`authorization ${grantId} of user ${id}`);
          await audit.recordChange(actor, 'user.app_revoked', { ...userTarget(id), clientId }, { grant: grantId, client_id: clientId }, meta);
        });
      },
    },

    serviceAccounts: {
      list: () => serviceAccounts.list(),
      page: (req: PageRequest) => serviceAccounts.page(req),
      get: (id: string) => serviceAccounts.get(id),

      async create(actor: Actor, input: Parameters<ServiceAccountService['create']>[0], meta?: RequestMeta) {
        return atomic(async () => {
          const created = await serviceAccounts.create(input);
          const { client_id: _id, created_at: _c, ...fields } = serviceAccountView(created.account);
          await audit.recordChange(actor, 'service_account.created', accountTarget(created.account.clientId), fields, meta);
          return created;
        });
      },

      async setDisabled(actor: Actor, id: string, disabled: boolean, precondition?: Precondition<ServiceAccountView>, meta?: RequestMeta) {
        return updateAccount(
          actor,
          id,
          async (before) => {
            precondition?.(before);
            await serviceAccounts.setDisabled(id, disabled);
            return undefined;
          },
          meta,
        );
      },

      async addKeys(actor: Actor, id: string, keys: JWK[], expiresAt?: Date, meta?: RequestMeta) {
        return atomic(async () => {
          const kids = await serviceAccounts.addKeys(id, keys, expiresAt);
          await audit.recordChange(actor, 'service_account.key_added', accountTarget(id), { kids, expires_at: expiresAt?.toISOString() ?? null }, meta);
          return kids;
        });
      },

      async removeKey(actor: Actor, id: string, kid: string, meta?: RequestMeta) {
        return atomic(async () => {
          await serviceAccounts.removeKey(id, kid);
          await audit.recordChange(actor, 'service_account.key_removed', accountTarget(id), { kid }, meta);
        });
      },

      /** A key pair made here: its public half registered, its private half in this answer only (as `create --generate-key`). */
      async addGeneratedKey(actor: Actor, id: string, alg: (typeof GENERATED_KEY_ALGS)[number], expiresAt?: Date, meta?: RequestMeta) {
        const { privateJwk, publicJwk } = await generateAccountKey(alg);
        const [kid] = await admin.serviceAccounts.addKeys(actor, id, [publicJwk], expiresAt, meta);
        return { kid: kid!, privateJwk };
      },

      /** One key stops working at `expiresAt` (now, for a leaked one; later, for a rollover's end). */
      async expireKey(actor: Actor, id: string, kid: string, expiresAt: Date, meta?: RequestMeta) {
        return atomic(async () => {
          await serviceAccounts.setKeyExpiry(id, kid, expiresAt);
          await audit.recordChange(actor, 'service_account.key_expired', accountTarget(id), { kid, expires_at: expiresAt.toISOString() }, meta);
        });
      },

      /** Scopes, default scope and grants, by the rules of `create` (the service's `updateAccess`); tokens already issued keep theirs. */
      async updateAccess(actor: Actor, id: string, input: Parameters<ServiceAccountService['updateAccess']>[1], meta?: RequestMeta) {
        return updateAccount(actor, id, () => serviceAccounts.updateAccess(id, input), meta);
      },

      /** A partner's new shared secret; the old one works for `overlapSeconds` more. The secret is in this answer only (unless given). */
      async rotateSecret(actor: Actor, id: string, overlapSeconds: number, newSecret?: string, meta?: RequestMeta) {
        const rotated = await serviceAccounts.rotateSharedSecret(id, overlapSeconds, newSecret);
        await audit.recordChange(
          actor,
          'service_account.secret_rotated',
          accountTarget(id),
          {
            shared_secret: newSecret === undefined ? 'replaced' : 'replaced (given)',
            previous_secret_expires_at: rotated.previousExpiresAt?.toISOString() ?? null,
          },
          meta,
        );
        return rotated;
      },
    },

    /**
     * API keys of any owner. The key service records its own audit events, each in the transaction of
     * its change (src/services/api-keys/api-keys.ts); the actor rides along in them.
     */
    apiKeys: {
      ownerFromId: (id: string) => deps.apiKeys.ownerFromId(id),
      list: (filter: ApiKeyFilter = {}) => deps.apiKeys.list(filter),
      page: (filter: ApiKeyFilter & PageRequest = {}) => deps.apiKeys.page(filter),
      get: (id: string) => deps.apiKeys.get(id),
      create: (actor: Actor, input: CreateApiKeyInput, meta: RequestMeta = {}) => deps.apiKeys.create(input, { ...meta, actor }),
      revoke: (actor: Actor, id: string, meta: RequestMeta = {}) => atomic(() => deps.apiKeys.revoke(id, { ...meta, actor })),

      /** One key of another format (or its SHA-256), kept working; `existing` when imported before. */
      importOne: (actor: Actor, input: ImportApiKeyInput, meta: RequestMeta = {}) => atomic(() => deps.apiKeys.import(input, { ...meta, actor })),

      /** Keys as JSON Lines (src/services/api-keys/api-key-import.ts). */
      async import(actor: Actor, lines: AsyncIterable<JsonLine>, opts: ImportOptions = {}, meta?: RequestMeta): Promise<ImportReport> {
        const report = await (await deps.apiKeyImporter()).run(lines, actor, opts, meta);
        if (!report.dry_run && report.created > 0) {
          await audit.recordChange(
            actor,
            'api_keys.imported',
            { kind: 'api_keys', id: 'import' },
            { created: report.created, skipped: report.skipped, failed: report.failed },
            meta,
          );
        }
        return report;
      },
    },

    resources: {
      list: () => resources.list(),
      get: (identifier: string) => resources.get(identifier),

      async create(actor: Actor, input: ResourceInput, meta?: RequestMeta) {
        return atomic(async () => {
          const created = await resources.create(input);
          const { identifier: _i, created_at: _c, ...fields } = resourceView(created);
          await audit.recordChange(actor, 'resource.created', { kind: 'resource', id: created.identifier }, fields, meta);
          return created;
        });
      },

      /** Changes scopes, scope roles, machines-only, format, lifetime or claims; takes effect on every node within a quarter of a second. */
      async update(actor: Actor, identifier: string, changes: ResourceChanges, precondition?: Precondition<ResourceServerRecord>, meta?: RequestMeta) {
        return atomic(async () => {
          let before: ResourceServerRecord | undefined;
          const after = await resources.update(identifier, withoutUndefined(changes), (current) => {
            before = current;
            precondition?.(current);
          });
          await audit.recordChange(
            actor,
            'resource.updated',
            { kind: 'resource', id: identifier },
            changedFields(resourceView(before!), resourceView(after)),
            meta,
          );
          return after;
        });
      },

      /** The apps that may introspect the resource's tokens: those serving it as a resource server (`client … --resource-server`). */
      async introspectors(identifier: string): Promise<ClientRecord[]> {
        await resources.get(identifier);
        return (await clients.list()).filter((c) => c.metadata.resource_servers?.includes(identifier));
      },

      /**
       * Lets an app introspect the resource's tokens, or stops it: a change of
       * the app's resource servers (audited `client.updated`, as `client update
       * --resource-server` is). False when it already could (or could not).
       */
      async setIntrospector(actor: Actor, identifier: string, clientId: string, allowed: boolean, meta?: RequestMeta): Promise<boolean> {
        return atomic(async () => {
          await resources.get(identifier);
          const current = (await clients.get(clientId)).metadata.resource_servers ?? [];
          if (current.includes(identifier) === allowed) return false;
          const next = allowed ? [...current, identifier] : current.filter((r) => r !== identifier);
          const unchanged = (c: ClientRecord) => {
            if (JSON.stringify(c.metadata.resource_servers ?? []) !== JSON.stringify(current))
              throw conflict(`client ${clientId} was changed by someone else at the same time; try again`);
          };
          await admin.clients.update(actor, clientId, { resourceServers: next }, unchanged, meta);
          return true;
        });
      },

      async delete(actor: Actor, identifier: string, meta?: RequestMeta) {
        return atomic(async () => {
          await resources.delete(identifier);
          await audit.recordChange(actor, 'resource.deleted', { kind: 'resource', id: identifier }, undefined, meta);
        });
      },
    },

    signingKeys: {
      status: () => keyStatus(deps.db),

      /** Stages a new key: published at each node's next key refresh, signing after KEY_ROTATION_DELAY. */
      async rotate(actor: Actor, alg: SigningAlg, meta?: RequestMeta) {
        return atomic(async () => {
          const activatesAt = new Date(deps.clock.now() + deps.keyRotationDelay * 1000);
          const kid = await rotateSigningKey(deps.db, deps.box, alg, activatesAt);
          await audit.recordChange(actor, 'signing_key.rotated', { kind: 'signing_key', id: kid }, { alg, activates_at: activatesAt.toISOString() }, meta);
          return { kid, alg, activatesAt };
        });
      },
    },

    /** Re-encrypts every secret at rest under a new key-encryption key (the nodes then restart with it). */
    async rotateKeyEncryptionKey(actor: Actor, next: SecretBox, meta?: RequestMeta) {
      return atomic(async () => {
        const counts = await rewrapSecrets(deps.db, deps.box, next);
        await audit.recordChange(actor, 'key_encryption_key.rotated', { kind: 'key_encryption_key', id: 'current' }, { rewrapped: counts }, meta);
        return counts;
      });
    },

    /**
     * The admin console's overview: how many of each there are, one count
     * query each (none reads the rows), and the signing keys' stages.
     */
    async overview() {
      const now = new Date(deps.clock.now());
      const { db } = deps;
      const [people, disabledPeople, apps, serviceAccounts, apis, activeSessions, keysExpiringSoon, signingKeys] = await Promise.all([
        db.user.count(),
        db.user.count({ where: { disabled: true } }),
        db.client.count({ where: { kind: 'app' } }),
        db.client.count({ where: { kind: SERVICE_ACCOUNT } }),
        db.resourceServer.count(),
        db.oidcPayload.count({ where: { type: 'Session', expiresAt: { gt: now } } }),
        deps.apiKeys.count({ expiringWithinDays: 14 }),
        keyStatus(db),
      ]);
      return { people, disabledPeople, apps, serviceAccounts, apis, activeSessions, keysExpiringSoon, signingKeys };
    },

    audit: {
      page: (filter: AuditFilter & PageRequest) => audit.page(filter),
      list: (filter: AuditFilter & { limit?: number }) => audit.list(filter),
      /** Sign-ins and failures per hour (last 24 hours) and per UTC day (last 30 days), up to now on the service's clock. */
      signInActivity: () => audit.signInActivity(deps.clock.now()),
    },

    /**
     * The first admin service account, from a shell: registers the admin
     * API's resource if needed and creates an account allowed its scopes.
     * Refused once an enabled admin account exists (further ones are made
     * through the API, by an admin).
     */
    async bootstrap(actor: Actor, input: { name: string; generateKey?: (typeof GENERATED_KEY_ALGS)[number]; jwks?: JWK[] }, meta?: RequestMeta) {
      return atomic(async () => {
        const identifier = adminApiResource(deps.issuer);
        const existing = (await serviceAccounts.list()).find((a) => !a.disabled && a.metadata.scope.split(' ').includes(ADMIN_SCOPE));
        if (existing) throw conflict(`an admin service account already exists (${existing.clientId}); create further ones through the admin API`);
        let resource = await resources.find(identifier);
        if (!resource)
          resource = await admin.resources.create(
            actor,
            { identifier, scope: `${ADMIN_SCOPE} ${ADMIN_READ_SCOPE}`, format: 'jwt', ttl: ADMIN_TOKEN_TTL, machinesOnly: true },
            meta,
          );
        const grants: ServiceGrant[] = [JWT_BEARER, 'client_credentials'];
        const created = await admin.serviceAccounts.create(
          actor,
          {
            name: input.name,
            scope: `${ADMIN_SCOPE} ${ADMIN_READ_SCOPE}`,
            defaultScope: ADMIN_SCOPE,
            grants,
            generateKey: input.generateKey,
            jwks: input.jwks,
          },
          meta,
        );
        await audit.recordChange(actor, 'admin.bootstrapped', accountTarget(created.account.clientId), { resource: identifier }, meta);
        return { ...created, resource };
      });
    },
  };

  return admin;
}

export type Administration = ReturnType<typeof createAdministration>;
