// oidc-provider's storage contract on Prisma. Every model except `Client`
// shares one table keyed by (type, id); clients come from their own table.
//
// Where the id is itself a credential (a token, a code, a session or
// interaction cookie value), the row is keyed by an HMAC of it and the
// payload is stored without it: someone who reads the database or a backup
// learns no token they could use. The lookup is still one primary-key read.
//
// `consume` is a conditional update (`... WHERE consumed_at IS NULL`): of two
// concurrent requests presenting the same code or refresh token, exactly one
// changes the row, and the other is refused with invalid_grant instead of
// both being answered with tokens. In a refresh, a refresh token's update is
// made with the new tokens' write (src/db/held-writes.ts), and the loser's
// refusal comes from that write; a code's is made at once.
import { createHmac } from 'node:crypto';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ArtifactStore, StoredArtifact } from '../db/artifact-store.ts';
import { ConsumedMeanwhile } from '../db/held-writes.ts';
import type { ClientService, ProviderClientRow } from '../services/machines/clients.ts';
import { JWT_BEARER, SERVICE_ACCOUNT, type ServiceAccountMetadata } from '../services/machines/service-accounts.ts';
import { assertionAuthenticated } from './grants/assertion-auth.ts';
import { currentRequest, type ServedRequest } from './provider-request.ts';
import { ACCOUNT_CLIENT_ID, accountClientMetadata } from './account-session.ts';
import { API_SCOPE, DEFAULT_API_SCOPE, DEFAULT_RESOURCE } from './resource-indicators.ts';
import { RESOURCE_SERVERS } from './introspection-policy.ts';
import { hashArtifactId } from '../services/secrets/artifact-ids.ts';
import { createSecretBox } from '../services/secrets/secret-box.ts';
import { API_KEY_CLIENT_ID, apiKeyClientMetadata } from './grants/token-exchange.ts';

/** How oidc-provider sees a client that is not a service account (an app, a registered client). */
function clientView(row: ProviderClientRow): AdapterPayload {
  const { api_scope, resource_servers, default_resource, ...metadata } = row.metadata;
  return Object.freeze({
    ...metadata,
    client_id: row.clientId,
    client_name: row.name,
    ...(api_scope ? { [API_SCOPE]: api_scope } : {}),
    ...(resource_servers ? { [RESOURCE_SERVERS]: resource_servers } : {}),
    ...(default_resource ? { [DEFAULT_RESOURCE]: default_resource } : {}),
    // The stored HMAC digest, not the secret: see src/oidc/client-secrets.ts.
    ...(row.secretHash ? { client_secret: row.secretHash } : {}),
  }) as AdapterPayload;
}

/**
 * How oidc-provider sees a service account. Its API scopes are not OIDC
 * scopes, so they travel as extra metadata rather than `scope`. When a
 * jwt-bearer request arrives with no client authentication, the assertion is
 * the credential (RFC 7523 §3.1): for that request only the account appears
 * as a `none` client allowed nothing but that grant, and the grant handler's
 * signature check authenticates it.
 */
function serviceAccountView(row: ProviderClientRow, assertionOnly: boolean, now: number): AdapterPayload {
  const meta = row.metadata as unknown as ServiceAccountMetadata;
  const base = {
    client_id: row.clientId,
    client_name: row.name,
    redirect_uris: [],
    response_types: [],
    [API_SCOPE]: meta.scope,
    [DEFAULT_API_SCOPE]: meta.default_scope,
  };
  if (assertionOnly || meta.token_endpoint_auth_method === 'none') {
    return { ...base, grant_types: meta.grant_types.filter((g) => g === JWT_BEARER), token_endpoint_auth_method: 'none' } as AdapterPayload;
  }
  const keys = row.keys.filter((k) => !k.expiresAt || k.expiresAt.getTime() > now).map((k) => k.jwk);
  return { ...base, grant_types: meta.grant_types, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys } } as AdapterPayload;
}

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

export class AlreadyConsumed extends errors.InvalidGrant {
  constructor(model: string) {
    super(`${model} already consumed`);
  }
}

/** Models whose id is a bearer credential. Grants are not: their id alone grants nothing. */
export const SECRET_ID_MODELS = new Set([
  'Session',
  'Interaction',
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'RegistrationAccessToken',
  'InitialAccessToken',
]);

export interface AdapterDeps {
  artifacts: ArtifactStore;
  clients: ClientService;
  issuer: string;
  /** The admin console's own listener (ADMIN_CONSOLE_URL), when it has one: the account client comes back there. */
  consoleUrl?: string;
  /** Key of the HMAC that stored ids of SECRET_ID_MODELS are. */
  idKey: Buffer;
  /** Ids that are certainly not tokens the provider issued (API keys): never looked up as tokens. */
  notATokenId?: (id: string) => boolean;
  /**
   * Seconds after its first use during which a refresh token may be used
   * again and is then consumed "again" rather than reported as reused
   * (REFRESH_REUSE_GRACE; src/oidc/refresh-grace.ts). 0 or unset: never.
   */
  refreshReuseGrace?: number;
  /** Milliseconds since the epoch (the runtime's clock, which tests move). */
  now?: () => number;
  /**
   * The request being served, if any (default: currentRequest, src/oidc/provider-request.ts): a session saved in it records
   * its browser, address and time (SESSION_SEEN), and a client its jwt-bearer assertion alone authenticated gets its view.
   */
  request?: () => ServedRequest | undefined;
}

/**
 * Where a session's last use is kept in its stored payload: the browser, the
 * address and the time of the request that last saved it (the library saves
 * a session on each request that uses it). The library ignores the field.
 */
export const SESSION_SEEN = 'lk_seen';
export interface SessionSeen {
  ip?: string;
  ua?: string;
  /** Seconds since the epoch. */
  at: number;
}

const TOKEN_MODELS = new Set(['AccessToken', 'ClientCredentials', 'RefreshToken']);
// Their lookups share one HMAC of the id (createAdapterClass, readToken).
if (![...TOKEN_MODELS].every((m) => SECRET_ID_MODELS.has(m))) throw new Error('every token model is stored under a keyed hash of its id');

export function storedId(idKey: Buffer, type: string, id: string): string {
  return SECRET_ID_MODELS.has(type) ? hashArtifactId(idKey, id) : id;
}

/**
 * A device flow's user code is a credential a person types: stored as an
 * HMAC (in its own domain, unrelated to stored ids) and kept out of the
 * payload, so the database names no code that could be typed.
 */
export const storedUserCode = (idKey: Buffer, userCode: string) => hashArtifactId(idKey, `user-code\u0000${userCode}`);

// Where a payload repeats its own id: `jti` everywhere; an Interaction's `uid`
// (its id), its `returnTo` (…/auth/<id>) and `session.cookie` (the session
// cookie's value, which the library records but never reads back).
const ID_MARK = '\u0000';

// A device code is found by its uid (the person's browser resuming) and its
// user code, not only by itself: the library then saves it again under the id
// it reads from the payload. That id is a bearer credential, so the payload
// keeps it sealed (AES-256-GCM under a key derived from the id key), never plain.
const SEALED_ID_MODELS = new Set(['DeviceCode']);
/**
 * Kept this long past their expiry, seconds: a device polling with an expired
 * device code then gets RFC 8628's `expired_token` (start again) rather than
 * `invalid_grant` (the code is unknown). oidc-provider itself treats the
 * stored artifact as expired at its `exp`; only lookups that ask for expired
 * ones (the token endpoint's, the /device page's) see it.
 */
const KEPT_AFTER_EXPIRY: Record<string, number> = { DeviceCode: 600 };
const SEALED_ID_PURPOSE = 'artifact id';

function withoutId(type: string, id: string, payload: AdapterPayload): AdapterPayload {
  const out: AdapterPayload = { ...payload, jti: payload.jti === id ? undefined : payload.jti };
  if (type === 'Interaction') {
    if (out.uid === id) out.uid = ID_MARK;
    if (typeof out.returnTo === 'string') out.returnTo = out.returnTo.split(id).join(ID_MARK);
    const session = out.session as Record<string, unknown> | undefined;
    if (session?.cookie !== undefined) out.session = { ...session, cookie: undefined };
  }
  return out;
}

function withId(type: string, id: string, payload: AdapterPayload): AdapterPayload {
  if (payload.jti === undefined) payload.jti = id;
  if (type === 'Interaction') {
    if (payload.uid === ID_MARK) payload.uid = id;
    if (typeof payload.returnTo === 'string') payload.returnTo = payload.returnTo.split(ID_MARK).join(id);
  }
  return payload;
}

/**
 * A consumption held for the request's token writes (src/db/held-writes.ts)
 * that another request made first fails the call that made it: the provider
 * gets its invalid_grant, as from a consumption made at once.
 */
function refusingLostConsumptions(store: ArtifactStore): ArtifactStore {
  const calls = Object.entries(store) as [keyof ArtifactStore, (...args: unknown[]) => Promise<unknown>][];
  return Object.fromEntries(
    calls.map(([name, call]) => [name, (...args: unknown[]) => call(...args).catch(refuseLostConsumption)]),
  ) as unknown as ArtifactStore;
}

/** A lost held consumption as the provider's own refusal; any other error unchanged. */
export function refuseLostConsumption(err: unknown): never {
  throw err instanceof ConsumedMeanwhile ? new AlreadyConsumed(err.type) : err;
}

export function createAdapterClass({
  artifacts: store,
  clients,
  issuer,
  consoleUrl,
  idKey,
  notATokenId,
  refreshReuseGrace = 0,
  now = Date.now,
  request = currentRequest,
}: AdapterDeps) {
  const artifacts = refusingLostConsumptions(store);
  const graceMs = refreshReuseGrace * 1000;
  const idBox = createSecretBox(createHmac('sha256', idKey).update('sealed-artifact-ids').digest());
  /** When a refresh token consumed at or after this time may still be consumed again. */
  const graceSince = (type: string) => (graceMs > 0 && type === 'RefreshToken' ? new Date(now() - graceMs) : undefined);
  /**
   * A token presented at introspection or revocation is looked up as each of
   * the three token models at once (the library's findToken, one Promise.all).
   * The lookups of one id started before the next microtask (whichever
   * request made them: they then share one statement, and its failure) are
   * made in that microtask as one statement, with one HMAC (the same for the
   * three: all are SECRET_ID_MODELS); a lookup alone is the primary-key read
   * it always was. A lookup started after that microtask reads again.
   */
  const tokenReads = new Map<string, { types: string[]; rows: Promise<Map<string, StoredArtifact>> }>();
  const readToken = (id: string, type: string) => {
    let read = tokenReads.get(id);
    if (!read) {
      const types: string[] = [];
      const rows = Promise.resolve().then(async () => {
        tokenReads.delete(id);
        const key = storedId(idKey, type, id);
        if (types.length > 1) return artifacts.findAmong(types, key);
        const row = await artifacts.find(type, key);
        return new Map(row ? [[type, row]] : []);
      });
      read = { types, rows };
      tokenReads.set(id, read);
    }
    if (!read.types.includes(type)) read.types.push(type);
    return read.rows;
  };

  /**
   * The provider asks for a client's metadata on every request that names
   * it, and hashes what it gets to find its own cached Client. The view of a
   * client that is not a service account depends on its row alone, so it is
   * built once per cached row (a changed client is a new row). It is frozen
   * at the top, which the provider only copies from; its arrays are the
   * row's, shared as they always were (the provider's schema rewrites
   * `grant_types` in place in one case we never store, so they cannot be
   * frozen). A service account's view depends on how the request
   * authenticated and on the time (its keys' expiry), so it is built each
   * time.
   */
  const clientViews = new WeakMap<ProviderClientRow, AdapterPayload>();

  class ClientAdapter implements Adapter {
    async find(id: string): Promise<AdapterPayload | undefined> {
      if (id === ACCOUNT_CLIENT_ID) return accountClientMetadata(issuer, consoleUrl) as AdapterPayload;
      if (id === API_KEY_CLIENT_ID) return apiKeyClientMetadata() as AdapterPayload;
      const row = await clients.findForProvider(id);
      if (!row) return undefined;
      if (row.kind === SERVICE_ACCOUNT) return serviceAccountView(row, assertionAuthenticated(request()) === id, now());
      let view = clientViews.get(row);
      if (!view) {
        view = clientView(row);
        clientViews.set(row, view);
      }
      return view;
    }
    // Clients are managed with the admin CLI, not through the provider.
    async upsert(): Promise<void> {
      throw new Error('clients are managed with the admin CLI');
    }
    async destroy(): Promise<void> {
      throw new Error('clients are managed with the admin CLI');
    }
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(): Promise<void> {}
    async revokeByGrantId(): Promise<void> {}
  }

  class PrismaAdapter implements Adapter {
    private readonly secretIds: boolean;

    constructor(readonly type: string) {
      this.secretIds = SECRET_ID_MODELS.has(type);
      // oidc-provider makes every model's adapter with `new Adapter(name)`; Clients are served from their own table.
      // biome-ignore lint/correctness/noConstructorReturn: see above
      if (type === 'Client') return new ClientAdapter() as unknown as PrismaAdapter;
    }

    private key(id: string): string {
      return storedId(idKey, this.type, id);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(Date.now() + (expiresIn + (KEPT_AFTER_EXPIRY[this.type] ?? 0)) * 1000) : null;
      // Copies of the id inside the payload are taken out, and put back on the way out.
      let stored = this.secretIds ? withoutId(this.type, id, payload) : payload;
      if (SEALED_ID_MODELS.has(this.type)) stored.sealedId = idBox.seal(id, `${this.type} ${SEALED_ID_PURPOSE}`);
      const userCode = typeof payload.userCode === 'string' ? payload.userCode : undefined;
      const served = this.type === 'Session' ? request() : undefined;
      if (served) {
        const seen: SessionSeen = { ip: served.ip, ua: served.userAgent?.slice(0, 300), at: epoch(new Date(now())) };
        stored = { ...stored, [SESSION_SEEN]: seen };
      }
      const columns = {
        payload: JSON.stringify(userCode === undefined ? stored : { ...stored, userCode: undefined }),
        grantId: payload.grantId ?? null,
        userCode: userCode === undefined ? null : storedUserCode(idKey, userCode),
        uid: typeof stored.uid === 'string' && stored.uid !== ID_MARK ? stored.uid : null,
        // A row issued under a grant (a person's token, code, device code) is found through its grant, whose row names the
        // person and the client: left out here, it enters two indexes fewer, of the six a refresh's two new rows enter
        // (bench/README.md, "Stop 50"). Its payload still names both.
        accountId: payload.grantId ? null : (payload.accountId ?? null),
        clientId: payload.grantId ? null : (payload.clientId ?? null),
        expiresAt,
      };
      await artifacts.upsert(this.type, this.key(id), columns);
    }

    private toPayload(row: StoredArtifact | undefined, id?: string) {
      if (!row) return undefined;
      if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return undefined;
      const payload = JSON.parse(row.payload) as AdapterPayload;
      if (typeof payload.sealedId === 'string') {
        id ??= idBox.open(payload.sealedId, `${this.type} ${SEALED_ID_PURPOSE}`);
        delete payload.sealedId;
      }
      // A refresh token in its reuse grace reads as unused: the library then
      // consumes it (again, see consume) instead of revoking its grant.
      const since = graceSince(this.type);
      if (row.consumedAt && !(since && row.consumedAt >= since)) payload.consumed = epoch(row.consumedAt);
      return id !== undefined && this.secretIds ? withId(this.type, id, payload) : payload;
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      // An API key presented where a token is expected (introspection, revocation) costs no lookup.
      if (TOKEN_MODELS.has(this.type)) {
        if (notATokenId?.(id)) return undefined;
        return this.toPayload((await readToken(id, this.type)).get(this.type), id);
      }
      return this.toPayload(await artifacts.find(this.type, this.key(id)), id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.toPayload(await artifacts.findByColumn(this.type, 'uid', uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const payload = this.toPayload(await artifacts.findByColumn(this.type, 'userCode', storedUserCode(idKey, userCode)));
      if (payload) payload.userCode = userCode;
      return payload;
    }

    async consume(id: string): Promise<void> {
      if (!(await artifacts.consume(this.type, this.key(id), new Date(now()), graceSince(this.type)))) throw new AlreadyConsumed(this.type);
    }

    async destroy(id: string): Promise<void> {
      await artifacts.destroy(this.type, this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await artifacts.revokeByGrantId(this.type, grantId);
    }
  }

  return PrismaAdapter;
}
