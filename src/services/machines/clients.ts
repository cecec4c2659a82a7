// Registered relying parties. Secrets are generated here (256 bits), shown
// once, and stored as an HMAC-SHA-256 under a server key: verifying one is a
// microsecond-scale keyed hash and a constant-time compare, where bcrypt would
// cost ~250 ms of CPU on every token request (and ignore bytes past 72).
import { createHmac, randomBytes } from 'node:crypto';
import { digestsEqual } from '../secrets/constant-time.ts';
import type { Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { configCache, type ChangeTracker } from './config-cache.ts';
import { DEVICE_CODE_GRANT, isLoopbackHost } from '../../config/env.ts';
import { checkScope } from '../apis/scope-names.ts';
import { conflict, invalidInput, notFound } from '../../errors.ts';
import { keyset, toPage, type Page, type PageRequest } from '../admin/pagination.ts';
import type { Clock } from '../../clock.ts';
import { isReservedClientId } from './built-in-clients.ts';
import { weakSecretProblem } from '../secrets/secret-strength.ts';
import { deleteClientArtifacts } from '../../db/owned-artifacts.ts';

/** A client id an operator chooses (an imported app's, a configuration file's). */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkClientId(clientId: string): string {
  if (!CLIENT_ID_PATTERN.test(clientId))
    throw invalidInput(`client id "${clientId.slice(0, 140)}" must be 1–128 letters, digits, dots, dashes or underscores, starting with a letter or digit`);
  if (isReservedClientId(clientId))
    throw invalidInput(`client id ${clientId} is reserved: ids starting with "latchkey-" belong to Latchkey's built-in clients; choose another`);
  return clientId;
}

/**
 * A generated client id: 128 random bits, base64url, starting with a letter or
 * digit as CLIENT_ID_PATTERN asks, so that `client show <id>` is never read as
 * an option (an id starting with "-" was, one time in 32).
 */
function newClientId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (CLIENT_ID_PATTERN.test(id)) return id;
  }
}

/** `kind` of a dynamically registered client's row. */
export const REGISTERED = 'registered';

export const DEFAULT_CLIENT_SCOPE = 'openid profile email offline_access';

export interface ClientMetadata {
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: string;
  scope: string;
  id_token_signed_response_alg?: string;
  /** API (resource-server) scopes this client was granted; unset = none (src/services/apis/api-access.ts). */
  api_scope?: string;
  /** APIs this client serves: it may introspect tokens whose audience is one of them. */
  resource_servers?: string[];
  /** Every sign-in to this client needs a second factor. */
  latchkey_require_mfa?: boolean;
  /** The API a person's authorization is for when it asks for API scopes but names no `resource`. */
  default_resource?: string;
  /** Where logout tokens are posted when a session the client was signed in through ends (OpenID Connect Back-Channel Logout). */
  backchannel_logout_uri?: string;
  /** Logout tokens carry the session's `sid`. */
  backchannel_logout_session_required?: boolean;
  /** OIDC client metadata the sign-in and consent pages show: the app's logo, home page, privacy policy, terms. */
  logo_uri?: string;
  client_uri?: string;
  policy_uri?: string;
  tos_uri?: string;
}

export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;

export interface ClientRecord {
  clientId: string;
  name: string;
  public: boolean;
  metadata: ClientMetadata;
  /** Which secrets work (never their values): the current one and, during a rotation's overlap, the previous. */
  secrets: { current?: { createdAt: Date | null }; previous?: { expiresAt: Date } };
  createdAt: Date;
  updatedAt: Date;
}

/** Longest a replaced secret may keep working after a rotation. */
export const MAX_SECRET_OVERLAP_SECONDS = 30 * 86_400;

export interface CreateClientInput {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  public?: boolean;
  scope?: string;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  idTokenAlg?: (typeof ID_TOKEN_ALGS)[number];
  /** Also allow the client_credentials grant (confidential clients only). */
  clientCredentials?: boolean;
  apiScope?: string;
  /** Registered resources (API identifiers) this client serves as a resource server. */
  resourceServers?: string[];
  requireMfa?: boolean;
  /** A registered resource the client has API scopes at (see ClientMetadata.default_resource); '' removes it. */
  defaultResource?: string;
  /** Also allow the device authorization grant (RFC 8628): CLIs, TVs, anything without a browser. */
  deviceFlow?: boolean;
  /** OpenID Connect Back-Channel Logout: the URI logout tokens are posted to; '' removes it. */
  backchannelLogoutUri?: string;
  /** Logout tokens for this client carry the session's `sid`. */
  backchannelLogoutSessionRequired?: boolean;
  /** Shown on the app's sign-in and consent pages (https; '' removes one). */
  logoUri?: string;
  clientUri?: string;
  policyUri?: string;
  tosUri?: string;
}

/** A stored client as the input that would create it, so that a change can be applied and re-checked (and a form shows what is set). */
export function inputOf(record: ClientRecord): CreateClientInput {
  const m = record.metadata;
  return {
    name: record.name,
    redirectUris: m.redirect_uris,
    postLogoutRedirectUris: m.post_logout_redirect_uris,
    public: record.public,
    scope: m.scope,
    tokenEndpointAuthMethod:
      m.token_endpoint_auth_method === 'client_secret_post'
        ? 'client_secret_post'
        : m.token_endpoint_auth_method === 'client_secret_basic'
          ? 'client_secret_basic'
          : undefined,
    idTokenAlg: m.id_token_signed_response_alg as CreateClientInput['idTokenAlg'],
    clientCredentials: m.grant_types.includes('client_credentials'),
    apiScope: m.api_scope,
    resourceServers: m.resource_servers,
    requireMfa: m.latchkey_require_mfa,
    defaultResource: m.default_resource,
    deviceFlow: m.grant_types.includes(DEVICE_CODE_GRANT),
    backchannelLogoutUri: m.backchannel_logout_uri,
    backchannelLogoutSessionRequired: m.backchannel_logout_session_required,
    logoUri: m.logo_uri,
    clientUri: m.client_uri,
    policyUri: m.policy_uri,
    tosUri: m.tos_uri,
  };
}

/** A page link or image of the app: https (http only on loopback, for development). */
export function checkPageUri(uri: string, label: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidInput(`${label} "${uri}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw invalidInput(`${label} "${uri}" must be an https:// URL (http only on localhost)`);
  }
  return url.href;
}

/**
 * RFC 8252 §7.3/§8.3: plain http only on the loopback interface, where it
 * cannot be intercepted on the network.
 *
 * Redirect URIs are matched exactly, so they must be exact: absolute, no
 * fragment. Codes travel in them, so plain http is for the loopback interface
 * only (native and local development apps), unless a development setting
 * allows it (ALLOW_INSECURE_REDIRECT_URIS).
 */
export function checkRedirectUri(uri: string, label = 'redirect URI', allowInsecure = false): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidInput(`${label} "${uri}" is not an absolute URI`);
  }
  if (url.hash || uri.includes('#')) throw invalidInput(`${label} "${uri}" must not contain a fragment`);
  const scheme = url.protocol.slice(0, -1);
  // http(s) for web apps; a private-use scheme with a dot (com.example.app:/cb) for native apps (RFC 8252 §7.1).
  if (!['http', 'https'].includes(scheme) && !scheme.includes('.')) {
    throw invalidInput(`${label} "${uri}" must use https, http or a reverse-domain private-use scheme`);
  }
  if (['http:', 'https:'].includes(url.protocol) && !url.hostname) throw invalidInput(`${label} "${uri}" has no host`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecure) {
    throw invalidInput(`${label} "${uri}" uses http: only loopback addresses (localhost, 127.0.0.1, [::1]) may; use https`);
  }
  return uri;
}

/** A back-channel logout URI: an http(s) URL Latchkey posts to (OpenID Connect Back-Channel Logout §2.2), no fragment. */
export function checkBackchannelLogoutUri(uri: string, allowInsecure = false): string {
  const label = 'back-channel logout URI';
  checkRedirectUri(uri, label, allowInsecure);
  if (!/^https?:$/.test(new URL(uri).protocol)) throw invalidInput(`${label} "${uri}" must use https (or http on a loopback address)`);
  return uri;
}

export interface ProviderClientRow {
  clientId: string;
  kind: string;
  name: string;
  secretHash: string | null;
  /** A rotated-out secret's HMAC, accepted until previousSecretExpiresAt. */
  previousSecretHash: string | null;
  previousSecretExpiresAt: Date | null;
  metadata: Record<string, unknown>;
  keys: { jwk: Record<string, unknown>; expiresAt: Date | null }[];
}

type ClientRow = {
  id: string;
  name: string;
  secretHash: string | null;
  secretCreatedAt: Date | null;
  previousSecretHash: string | null;
  previousSecretExpiresAt: Date | null;
  metadata: string;
  createdAt: Date;
  updatedAt: Date;
};

export function createClientService(
  db: Db,
  secretKey: Buffer,
  changesTracker: ChangeTracker,
  clock: Clock,
  opts: { allowInsecureRedirectUris?: boolean } = {},
) {
  const findForProvider = configCache(changesTracker, 'clients', async (clientId): Promise<ProviderClientRow | undefined> => {
    const row = await db.client.findUnique({ where: { id: clientId }, include: { keys: { orderBy: { createdAt: 'asc' } } } });
    if (!row || row.disabled) return undefined;
    return {
      clientId: row.id,
      kind: row.kind,
      name: row.name,
      secretHash: row.secretHash,
      previousSecretHash: row.previousSecretHash,
      previousSecretExpiresAt: row.previousSecretExpiresAt,
      metadata: JSON.parse(row.metadata) as Record<string, unknown>,
      keys: row.keys.map((k) => ({ jwk: JSON.parse(k.publicJwk) as Record<string, unknown>, expiresAt: k.expiresAt })),
    };
  });
  const digest = (secret: string) => createHmac('sha256', secretKey).update(secret).digest('base64url');

  const previousLive = (row: { previousSecretHash: string | null; previousSecretExpiresAt: Date | null }, now = clock.now()) =>
    row.previousSecretHash !== null && row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt.getTime() > now;

  function toRecord(row: ClientRow): ClientRecord {
    return {
      clientId: row.id,
      name: row.name,
      public: row.secretHash === null,
      metadata: JSON.parse(row.metadata),
      secrets: {
        ...(row.secretHash ? { current: { createdAt: row.secretCreatedAt } } : {}),
        ...(previousLive(row) ? { previous: { expiresAt: row.previousSecretExpiresAt! } } : {}),
      },
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  function checkName(input: string): string {
    const name = input.trim();
    if (!name) throw invalidInput('client name must not be empty');
    return name;
  }

  /** The client's registration, checked: one set of rules for creating and for changing a client. */
  async function buildMetadata(input: CreateClientInput): Promise<ClientMetadata> {
    if (input.clientCredentials && input.public) throw invalidInput('a --public client cannot use client credentials');
    const resourceServers = [...new Set(input.resourceServers ?? [])];
    if (resourceServers.length && input.public) throw invalidInput('a --public client cannot be a resource server (it cannot authenticate to introspect)');
    if (resourceServers.length) {
      const known = new Set(
        (await db.resourceServer.findMany({ where: { identifier: { in: resourceServers } }, select: { identifier: true } })).map((r) => r.identifier),
      );
      const unknown = resourceServers.filter((r) => !known.has(r));
      if (unknown.length)
        throw invalidInput(`resource ${unknown.join(', ')} is not registered; create it first (resource create --identifier URI --scope "…")`);
    }
    let defaultResource: string | undefined;
    if (input.defaultResource) {
      const rs = await db.resourceServer.findUnique({ where: { identifier: input.defaultResource } });
      if (!rs)
        throw invalidInput(`--default-resource ${input.defaultResource} is not registered; create it first (resource create --identifier URI --scope "…")`);
      const granted = new Set(input.apiScope ? checkScope(input.apiScope).split(' ') : []);
      if (!rs.scope.split(' ').some((s) => granted.has(s))) {
        throw invalidInput(`--default-resource ${rs.identifier}: the client must be granted one of its scopes (${rs.scope}) with --api-scope`);
      }
      defaultResource = rs.identifier;
    }
    // A machine-only client (client credentials, or a resource server that
    // introspects) and a device-only one need no redirect URI.
    const interactive = input.redirectUris.length > 0;
    if (!interactive && !input.clientCredentials && !resourceServers.length && !input.deviceFlow) {
      throw invalidInput('at least one --redirect-uri is required (or --device-flow, --client-credentials, --resource-server)');
    }
    const grantTypes = [
      ...(interactive ? ['authorization_code', 'refresh_token'] : []),
      ...(input.deviceFlow ? [DEVICE_CODE_GRANT, ...(interactive ? [] : ['refresh_token'])] : []),
      ...(input.clientCredentials ? ['client_credentials'] : []),
    ];
    return {
      redirect_uris: input.redirectUris.map((u) => checkRedirectUri(u, 'redirect URI', opts.allowInsecureRedirectUris)),
      post_logout_redirect_uris: (input.postLogoutRedirectUris ?? []).map((u) =>
        checkRedirectUri(u, 'post-logout redirect URI', opts.allowInsecureRedirectUris),
      ),
      grant_types: grantTypes,
      response_types: interactive ? ['code'] : [],
      token_endpoint_auth_method: input.public ? 'none' : (input.tokenEndpointAuthMethod ?? 'client_secret_basic'),
      scope: checkScope(input.scope ?? DEFAULT_CLIENT_SCOPE),
      ...(input.idTokenAlg ? { id_token_signed_response_alg: input.idTokenAlg } : {}),
      ...(input.apiScope ? { api_scope: checkScope(input.apiScope) } : {}),
      ...(resourceServers.length ? { resource_servers: resourceServers } : {}),
      ...(input.requireMfa ? { latchkey_require_mfa: true } : {}),
      ...(defaultResource ? { default_resource: defaultResource } : {}),
      ...(input.backchannelLogoutUri ? { backchannel_logout_uri: checkBackchannelLogoutUri(input.backchannelLogoutUri, opts.allowInsecureRedirectUris) } : {}),
      ...(input.backchannelLogoutUri && input.backchannelLogoutSessionRequired ? { backchannel_logout_session_required: true } : {}),
      ...(input.logoUri ? { logo_uri: checkPageUri(input.logoUri, '--logo-uri') } : {}),
      ...(input.clientUri ? { client_uri: checkPageUri(input.clientUri, '--client-uri') } : {}),
      ...(input.policyUri ? { policy_uri: checkPageUri(input.policyUri, '--policy-uri') } : {}),
      ...(input.tosUri ? { tos_uri: checkPageUri(input.tosUri, '--tos-uri') } : {}),
    };
  }

  return {
    /**
     * A presented secret against the client's current secret and, until its
     * expiry, the one a rotation replaced. From the node's client cache
     * (src/services/machines/config-cache.ts), so no database read per request.
     */
    async verifySecret(clientId: string, presented: string): Promise<boolean> {
      const row = await findForProvider(clientId);
      if (!row?.secretHash) return false;
      const presentedHash = digest(presented);
      if (digestsEqual(presentedHash, row.secretHash)) return true;
      return previousLive(row) && digestsEqual(presentedHash, row.previousSecretHash!);
    },

    /**
     * A new secret that works at once; the current one keeps working for
     * `overlapSeconds` (0: not at all), so that the app can be redeployed with
     * the new one without an outage. A secret replaced earlier and still in
     * its overlap stops working now: at most two secrets at a time.
     */
    async rotateSecret(
      clientId: string,
      overlapSeconds: number,
      precondition?: (current: ClientRecord) => void,
    ): Promise<{ client: ClientRecord; clientSecret: string }> {
      if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_SECRET_OVERLAP_SECONDS) {
        throw invalidInput(`overlap must be a whole number of seconds from 0 to ${MAX_SECRET_OVERLAP_SECONDS}`);
      }
      const current = await this.get(clientId);
      precondition?.(current);
      if (current.public) throw conflict(`client ${clientId} is public: it has no secret to rotate`);
      const row = await db.client.findUniqueOrThrow({ where: { id: clientId } });
      const clientSecret = randomBytes(32).toString('base64url');
      const now = new Date(clock.now());
      // Conditional on the secret still being the one read: of two rotations racing, one wins.
      const { count } = await db.client.updateMany({
        where: { id: clientId, secretHash: row.secretHash },
        data: {
          secretHash: digest(clientSecret),
          secretCreatedAt: now,
          previousSecretHash: overlapSeconds > 0 ? row.secretHash : null,
          previousSecretExpiresAt: overlapSeconds > 0 ? new Date(now.getTime() + overlapSeconds * 1000) : null,
        },
      });
      if (count !== 1) throw conflict(`client ${clientId}'s secret changed meanwhile; try again`);
      await changesTracker.changed('clients');
      return { client: await this.get(clientId), clientSecret };
    },

    /**
     * A new client. `kept` keeps an existing app's client id and secret (an
     * import, a configuration file): the secret is stored as the same keyed
     * hash as a generated one, and refused when it looks guessable.
     */
    async create(input: CreateClientInput, kept: { clientId?: string; secret?: string } = {}): Promise<{ client: ClientRecord; clientSecret?: string }> {
      const name = checkName(input.name);
      const metadata = await buildMetadata(input);
      const clientId = kept.clientId === undefined ? newClientId() : checkClientId(kept.clientId);
      if (kept.secret !== undefined) {
        if (input.public) throw invalidInput('a public client has no secret');
        const weak = weakSecretProblem(kept.secret, 'the client secret');
        if (weak) throw invalidInput(weak);
      }
      const clientSecret = input.public ? undefined : (kept.secret ?? randomBytes(32).toString('base64url'));
      let row;
      try {
        row = await db.client.create({
          data: {
            id: clientId,
            name,
            secretHash: clientSecret ? digest(clientSecret) : null,
            secretCreatedAt: clientSecret ? new Date(clock.now()) : null,
            metadata: JSON.stringify(metadata),
          },
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`client id ${clientId} is already taken`);
        throw err;
      }
      await changesTracker.changed('clients');
      // A kept secret is its owner's already: it is not shown back.
      return { client: toRecord(row), clientSecret: kept.secret === undefined ? clientSecret : undefined };
    },

    /** Everything `create` checks, without creating: for dry runs. */
    async check(input: CreateClientInput, kept: { clientId?: string; secret?: string } = {}): Promise<void> {
      checkName(input.name);
      await buildMetadata(input);
      if (kept.clientId !== undefined) {
        checkClientId(kept.clientId);
        if (await db.client.findUnique({ where: { id: kept.clientId }, select: { id: true } })) throw conflict(`client id ${kept.clientId} is already taken`);
      }
      if (kept.secret !== undefined) {
        if (input.public) throw invalidInput('a public client has no secret');
        const weak = weakSecretProblem(kept.secret, 'the client secret');
        if (weak) throw invalidInput(weak);
      }
    },

    /** Whether `secret` is the client's current secret (an import compares before it overwrites). */
    async isCurrentSecret(clientId: string, secret: string): Promise<boolean> {
      const row = await db.client.findUnique({ where: { id: clientId }, select: { secretHash: true } });
      return row?.secretHash != null && digestsEqual(digest(secret), row.secretHash);
    },

    /** Replaces the current secret with a kept one (no overlap: the old product's secret is this one). */
    async setSecret(clientId: string, secret: string): Promise<void> {
      const weak = weakSecretProblem(secret, 'the client secret');
      if (weak) throw invalidInput(weak);
      const { count } = await db.client.updateMany({
        where: { id: clientId, kind: 'app', secretHash: { not: null } },
        data: { secretHash: digest(secret), secretCreatedAt: new Date(clock.now()), previousSecretHash: null, previousSecretExpiresAt: null },
      });
      if (count !== 1) throw notFound(`confidential client ${clientId}`);
      await changesTracker.changed('clients');
    },

    /** Changes a client's registration (never its secret or whether it is public), by the same rules as creating it. */
    async update(clientId: string, changes: Partial<Omit<CreateClientInput, 'public'>>, precondition?: (current: ClientRecord) => void): Promise<ClientRecord> {
      const current = await this.get(clientId);
      precondition?.(current);
      const next = { ...inputOf(current), ...changes, public: current.public };
      const name = checkName(next.name);
      const metadata = await buildMetadata(next);
      const row = await db.client.update({ where: { id: clientId }, data: { name, metadata: JSON.stringify(metadata) } });
      await changesTracker.changed('clients');
      return toRecord(row);
    },

    async list(): Promise<ClientRecord[]> {
      return (await db.client.findMany({ where: { kind: 'app' }, orderBy: { createdAt: 'asc' } })).map(toRecord);
    },

    async page(req: PageRequest = {}): Promise<Page<ClientRecord>> {
      const k = keyset('createdAt', req);
      const rows = await db.client.findMany({ where: { AND: [{ kind: 'app' }, k.where] }, orderBy: k.orderBy, take: k.take });
      return toPage(rows, k.take, (r) => ({ at: r.createdAt, id: r.id }), toRecord);
    },

    async get(clientId: string): Promise<ClientRecord> {
      const row = await db.client.findUnique({ where: { id: clientId } });
      if (row?.kind !== 'app') throw notFound(`client ${clientId}`);
      return toRecord(row);
    },

    /**
     * Deletes the client with its grants, codes and stored tokens. JWT access
     * tokens already issued verify offline until they expire at other resource
     * servers; Latchkey's own APIs refuse them at once (src/api/bearer-auth.ts).
     */
    async delete(clientId: string, precondition?: (current: ClientRecord) => void): Promise<void> {
      // An unknown id, or a service account's, is refused before anything is removed (its tokens included).
      const current = await this.get(clientId);
      precondition?.(current);
      const [{ count }] = await db.$transaction([db.client.deleteMany({ where: { id: clientId, kind: 'app' } }), ...deleteClientArtifacts(db, clientId)]);
      if (count === 0) throw notFound(`client ${clientId}`);
      await changesTracker.changed('clients');
    },

    /**
     * A dynamically registered client (RFC 7591/7592), created or replaced
     * with the metadata oidc-provider checked against the self-registered
     * client policy (src/oidc/self-registered-clients.ts). Never a shared
     * secret: the policy allows only public and private_key_jwt clients.
     */
    async saveRegistered(clientId: string, name: string, metadata: Record<string, unknown>): Promise<void> {
      const data = { name: name.trim() || clientId, metadata: JSON.stringify(metadata) };
      await db.client.upsert({ where: { id: clientId, kind: REGISTERED }, create: { id: clientId, kind: REGISTERED, ...data }, update: data });
      await changesTracker.changed('clients');
    },

    /** Deletes a dynamically registered client with everything issued to it (RFC 7592 §2.3). */
    async deleteRegistered(clientId: string): Promise<void> {
      await db.$transaction([db.client.deleteMany({ where: { id: clientId, kind: REGISTERED } }), ...deleteClientArtifacts(db, clientId)]);
      await changesTracker.changed('clients');
    },

    /**
     * Dynamically registered clients registered before `before` that hold no
     * grant, code or token (their registration access token aside): nobody
     * used them. At most `limit` a sweep.
     */
    async sweepUnusedRegistered(before: Date, limit = 500): Promise<number> {
      const candidates = await db.client.findMany({ where: { kind: REGISTERED, createdAt: { lt: before } }, select: { id: true }, take: limit });
      if (!candidates.length) return 0;
      const ids = candidates.map((c) => c.id);
      const used = await db.oidcPayload.findMany({
        where: { clientId: { in: ids }, type: { not: 'RegistrationAccessToken' } },
        select: { clientId: true },
        distinct: ['clientId'],
      });
      const usedIds = new Set(used.map((u) => u.clientId));
      const unused = ids.filter((id) => !usedIds.has(id));
      if (!unused.length) return 0;
      const [{ count }] = await db.$transaction([
        db.client.deleteMany({ where: { id: { in: unused }, kind: REGISTERED } }),
        db.oidcPayload.deleteMany({ where: { clientId: { in: unused } } }),
      ]);
      await changesTracker.changed('clients');
      return count;
    },

    /**
     * What oidc-provider needs of an enabled client, with a service account's
     * keys (the caller drops those past their expiry): from memory, loaded
     * once per change of any client (src/services/machines/config-cache.ts).
     */
    findForProvider,
  };
}

export type ClientService = ReturnType<typeof createClientService>;
