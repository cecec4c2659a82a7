// API keys: long-lived credentials a person or a service account hands to a
// script or server. Shown once; stored as an HMAC under a server key (a
// keyed hash and one indexed read per check, no bcrypt on the hot path).
// Every check reads the key's row with its person's roles in one statement —
// revocation, an owner's disabling and a role taken away are seen at once on
// every node — and nothing else but cached resources and service accounts.
// A person's key holds only what the person may hold (person-scopes.ts), at
// the resource it is used at, now.
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import type { ApiKeyStore, KeyHolder } from '../../db/api-key-store.ts';
import type { Db } from '../../db/database.ts';
import { conflict, invalidInput, notFound } from '../../errors.ts';
import { addressAllowed, checkCidr, normalizeAddress } from './address-ranges.ts';
import { splitScope } from '../apis/api-access.ts';
import { describeDuration } from '../../config/durations.ts';
import { checkApiKeyShape, generateApiKey, looksLikeApiKey, parseExpiry, type KeyFormat } from './api-key-format.ts';
import type { ChangeTracker } from '../machines/config-cache.ts';
import { weakSecretProblem } from '../secrets/secret-strength.ts';
import type { AuditService, RequestMeta } from '../admin/audit.ts';
import { checkScope } from '../apis/scope-names.ts';
import { keyset, toPage, type Page, type PageRequest } from '../admin/pagination.ts';
import { personScopesAt, whyNotHeld } from '../apis/person-scopes.ts';
import type { ResourceServerRecord, ResourceServerService } from '../apis/resource-servers.ts';
import type { ServiceAccountService } from '../machines/service-accounts.ts';
import { KEY_ADDRESS_ROWS_PER_MINUTE, type TokenUsage } from '../admin/token-usage.ts';
import type { UserService } from '../people/users.ts';
import { describeDbError, isUniqueViolation } from '../../db/errors.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../../clock.ts';

/** Last use is written at most this often per key (plus for new addresses, within the audit's bounds). */
export const TOUCH_EVERY_MS = 60_000;
/** Addresses remembered per key for "first use from a new address". */
const SEEN_ADDRESSES = 50;

/** `self`: the person is acting for themselves (refusals then say "you"). */
export type KeyOwner = { userId: string; self?: boolean } | { clientId: string };

export interface ApiKeyRecord {
  id: string;
  display: string;
  owner: { kind: 'person'; id: string } | { kind: 'service_account'; id: string };
  name: string;
  description: string | null;
  scopes: string[];
  resource: string | null;
  allowedCidrs: string[];
  expiresAt: Date | null;
  createdAt: Date;
  createdIp: string | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  revokedAt: Date | null;
  ownerDisabled: boolean;
}

/** Which keys a list or a count selects; every part given must hold. */
export interface ApiKeyFilter {
  owner?: KeyOwner;
  /** Live keys expiring between now and this many days from now. */
  expiringWithinDays?: number;
  /** Keys never used. */
  neverUsed?: boolean;
  /** Keys last used before this time (never-used keys are not among them: ask neverUsed). */
  lastUsedBefore?: Date;
}

export interface CreateApiKeyInput {
  owner: KeyOwner;
  name: string;
  description?: string;
  scope: string;
  resource?: string;
  /** A date, or a duration from now: `90d`, `12h`, `30m`, `2w`. */
  expires?: string | Date;
  allowIps?: string[];
}

/** What a key carries at one resource (never empty). */
export interface KeyAtResource {
  resource: ResourceServerRecord;
  scopes: string[];
}

export type KeyCheck =
  | {
      active: true;
      key: ApiKeyRecord;
      /** A person's key: the person as they are now (roles, and the claims an API may ask for). */
      holder?: KeyHolder;
      /** With `resources` given: the ones the key's scopes meet, and what it carries at each. */
      at: KeyAtResource[];
    }
  | { active: false; reason: 'shape' | 'environment' | 'checksum' | 'unknown' | 'revoked' | 'expired' | 'owner_disabled' | 'address' | 'not_allowed' };

/** Scopes a person's key may carry, grouped by the API that defines them. */
export interface HoldableScopes {
  resource: string;
  scopes: string[];
}

type Row = NonNullable<Awaited<ReturnType<Db['apiKey']['findUnique']>>>;
type NewKeyRow = Pick<Row, 'id' | 'secretHash' | 'display' | 'name' | 'description' | 'scope' | 'resource' | 'allowedCidrs' | 'expiresAt' | 'createdIp'> &
  ({ userId: string } | { clientId: string });

/**
 * When a key stops working. A person's key lives at most `personMaxTtl`
 * seconds from its creation whatever its stored expiry, so keys made before
 * the limit (or before it was lowered) obey it too.
 */
function expiryOf(row: Pick<Row, 'userId' | 'expiresAt' | 'createdAt'>, personMaxTtl: number): Date | null {
  if (!row.userId) return row.expiresAt;
  const longest = row.createdAt.getTime() + personMaxTtl * 1000;
  return new Date(Math.min(row.expiresAt?.getTime() ?? Infinity, longest));
}

function toRecord(row: Row, personMaxTtl: number): ApiKeyRecord {
  return {
    id: row.id,
    display: row.display,
    owner: row.userId ? { kind: 'person', id: row.userId } : { kind: 'service_account', id: row.clientId! },
    name: row.name,
    description: row.description,
    scopes: splitScope(row.scope),
    resource: row.resource,
    allowedCidrs: row.allowedCidrs ? (JSON.parse(row.allowedCidrs) as string[]) : [],
    expiresAt: expiryOf(row, personMaxTtl),
    createdAt: row.createdAt,
    createdIp: row.createdIp,
    lastUsedAt: row.lastUsedAt,
    lastUsedIp: row.lastUsedIp,
    revokedAt: row.revokedAt,
    ownerDisabled: row.ownerDisabled,
  };
}

export interface ApiKeyServiceDeps {
  db: Db;
  /** The key's row and its person's roles in one statement (src/db/api-key-store.ts). */
  keys: ApiKeyStore;
  hmacKey: Buffer;
  format: KeyFormat;
  audit: AuditService;
  resources: ResourceServerService;
  serviceAccounts: ServiceAccountService;
  users: UserService;
  /** Latchkey's own API (API_RESOURCE): a key never carries its scopes, so a key cannot mint keys. */
  ownResource: string;
  /** The admin API's resource: no key is ever for it either. */
  adminResource: string;
  /** API_KEY_MAX_TTL: the longest a person's key lives, seconds. */
  personMaxTtl: number;
  /** API_KEY_MAX_PER_OWNER: live keys one person or service account may have. */
  maxPerOwner: number;
  /** Counts uses from new addresses per key and hour, and bounds their rows (src/services/admin/token-usage.ts). */
  usage: Pick<TokenUsage, 'keyNewAddress'>;
  /** The time (src/clock.ts; tests move it). */
  clock: Clock;
  /** Where a failed last-use write is said (no caller waits for it). */
  log?: Logger;
  /** Tells every node that imported keys exist (they are looked up only then). */
  changes?: ChangeTracker;
  /**
   * Runs fn in one database transaction that `db`'s queries join
   * (src/db/transactions.ts): a key and its audit record are written together.
   */
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** A key from another product: the key itself, or only the SHA-256 that product kept of it. */
export interface ImportApiKeyInput extends Omit<CreateApiKeyInput, 'expires'> {
  key?: string;
  /** Hex SHA-256 of the key's UTF-8 bytes. */
  keySha256?: string;
  expires?: string | Date;
}

/**
 * The readable prefix of another product's key (`nsa_live_`, `kapi_prod_`,
 * `sk_test_`): up to three short lowercase words, each starting with a letter (random keys mix cases). Not
 * any run ending in `_`: a random base64url key has underscores too, and
 * treating its first part as a prefix would shrink its random part (judged
 * for strength) and lengthen what is shown of it.
 */
const KEY_PREFIX = /^(?:[a-z][a-z0-9]{0,11}_){1,3}/;

/** Characters an imported key may have: printable ASCII without spaces (what goes in a header). */
const IMPORTED_KEY = /^[\x21-\x7E]{16,512}$/;

/** The non-secret beginning shown for an imported key: its prefix (`kapi_prod_`) and 4 characters, or the SHA-256's first 8. */
export function importedDisplay(input: { key?: string; keySha256?: string }): string {
  if (input.keySha256 !== undefined) return `sha256:${input.keySha256.slice(0, 8).toLowerCase()}…`;
  const key = input.key!;
  const prefix = KEY_PREFIX.exec(key)?.[0] ?? '';
  return `${key.slice(0, Math.min(prefix.length + 4, Math.floor(key.length / 3)))}…`;
}

/** A person's key made without an expiry lives this long (or API_KEY_MAX_TTL, when shorter), seconds. */
export const DEFAULT_PERSON_KEY_TTL = 90 * 86400;

export function createApiKeyService({
  db,
  keys,
  hmacKey,
  format,
  audit,
  resources,
  serviceAccounts,
  users,
  ownResource,
  adminResource,
  personMaxTtl,
  maxPerOwner,
  usage,
  clock,
  log,
  changes,
  transaction,
}: ApiKeyServiceDeps) {
  const now = () => clock.now();
  const record = (row: Row) => toRecord(row, personMaxTtl);
  const digest = (key: string) => createHmac('sha256', hmacKey).update(key).digest('base64url');
  // Keys of other formats: a keyed hash of their SHA-256, so that a product that kept only
  // the SHA-256 of each key can hand that over, and a presented key is found the same way.
  const importedDigest = (sha256: Buffer) => createHmac('sha256', hmacKey).update('imported-sha256:').update(sha256).digest('base64url');
  const sha256 = (key: string) => createHash('sha256').update(key, 'utf8').digest();
  // Whether any imported key exists, per node (re-read when keys are imported anywhere).
  let imported: { version: Promise<boolean> } | undefined;
  changes?.onChange('api_keys', () => (imported = undefined));
  const anyImported = async (): Promise<boolean> => {
    await changes?.fresh();
    if (!imported) {
      const version = db.apiKey.findFirst({ where: { origin: { not: 'latchkey' } }, select: { id: true } }).then((r) => r !== null);
      imported = { version };
      version.catch(() => (imported = undefined));
    }
    return imported.version;
  };
  // When this node last wrote each key's last use (the row says when any node did).
  const touched = new Map<string, number>();
  // "key address" pairs whose first use this node is recording now.
  const recording = new Set<string>();

  /** Latchkey's own API and the admin API: no key is for them, whoever owns it. */
  const forKeys = (identifier: string) => identifier !== ownResource && identifier !== adminResource;
  const label = (identifier: string) => `${identifier}, ${identifier === ownResource ? "Latchkey's own API" : 'the admin API'}`;

  /** The scopes an owner may put on a key, and the resource's when bound. */
  async function checkScopes(owner: KeyOwner, scopes: string[], resource: string | undefined): Promise<void> {
    if (resource && !forKeys(resource))
      throw invalidInput(`a key cannot be bound to ${label(resource)}: no key is ever for it (a key cannot mint keys nor administer)`);
    const bound = resource ? await resources.find(resource) : undefined;
    if (resource) {
      if (!bound) throw invalidInput(`resource ${resource} is not registered`);
      const defined = new Set(splitScope(bound.scope));
      const outside = scopes.filter((s) => !defined.has(s));
      if (outside.length) throw invalidInput(`scope ${outside.join(', ')} is not defined by ${resource} (it defines: ${bound.scope})`);
    }
    if ('clientId' in owner) {
      const account = await serviceAccounts.forAssertion(owner.clientId);
      const ceiling = new Set(splitScope(account!.metadata.scope));
      const outside = scopes.filter((s) => !ceiling.has(s));
      if (outside.length)
        throw invalidInput(`scope ${outside.join(', ')} is beyond what service account ${owner.clientId} is granted (${account!.metadata.scope})`);
      return;
    }
    // A person: each scope must be one they hold now at an API a key may be for.
    const roles = await users.roles(owner.userId);
    const candidates = bound ? [bound] : await resources.list();
    for (const scope of scopes) {
      const defining = candidates.filter((r) => splitScope(r.scope).includes(scope));
      const eligible = defining.filter((r) => forKeys(r.identifier));
      if (eligible.some((r) => personScopesAt(r, roles).includes(scope))) continue;
      const who = owner.self ? 'you' : `user ${owner.userId}`;
      if (eligible.length) throw invalidInput(whyNotHeld(eligible[0]!, scope, roles, who)!);
      if (defining.length)
        throw invalidInput(`scope ${scope} is not for keys: only ${label(defining[0]!.identifier)}, defines it, and no key is ever for that`);
      throw invalidInput(`scope ${scope} is not defined by any registered API`);
    }
  }

  /** What `key` carries at `rs` now (empty: nothing, the key is not for it). */
  function scopesAt(key: ApiKeyRecord, holder: KeyHolder | undefined, rs: ResourceServerRecord): string[] {
    if (!forKeys(rs.identifier) || (key.resource && key.resource !== rs.identifier)) return [];
    const carried = new Set(key.scopes);
    const possible = key.owner.kind === 'person' ? personScopesAt(rs, holder?.roles ?? []) : splitScope(rs.scope);
    return possible.filter((s) => carried.has(s));
  }

  const overCap = () => conflict(`the owner already has ${maxPerOwner} live API keys, the most allowed: revoke one (or let it expire) before making another`);

  /**
   * Stores a new key in one of its owner's API_KEY_MAX_PER_OWNER places. A
   * place is a `slot` unique per owner, so creations racing for the last
   * place cannot all take it: one insert wins, the others pick again from
   * what is left, and there is nothing left to pick at the cap. Revoking a
   * key frees its place at once; an expired key's is freed here.
   *
   * Runs inside the creation's transaction (with its audit record): each
   * insert is under a savepoint, because a unique violation ends a
   * PostgreSQL transaction unless rolled back to one.
   */
  async function insertInFreeSlot(owner: KeyOwner, data: NewKeyRow, origin = 'latchkey'): Promise<Row> {
    const mine = 'userId' in owner ? { userId: owner.userId } : { clientId: owner.clientId };
    const at = now();
    await db.apiKey.updateMany({
      where: {
        ...mine,
        slot: { not: null },
        OR: [{ expiresAt: { lte: new Date(at) } }, ...('userId' in owner ? [{ createdAt: { lte: new Date(at - personMaxTtl * 1000) } }] : [])],
      },
      data: { slot: null },
    });
    for (let attempt = 0; attempt <= maxPerOwner; attempt++) {
      const taken = new Set((await db.apiKey.findMany({ where: { ...mine, slot: { not: null } }, select: { slot: true } })).map((r) => r.slot));
      // (After API_KEY_MAX_PER_OWNER was lowered, places above it still count.)
      const free = taken.size >= maxPerOwner ? [] : Array.from({ length: maxPerOwner }, (_, n) => n).filter((n) => !taken.has(n));
      if (!free.length) throw overCap();
      await db.$executeRawUnsafe('SAVEPOINT api_key_slot');
      try {
        const row = await db.apiKey.create({ data: { ...data, origin, slot: free[randomInt(free.length)]! } });
        await db.$executeRawUnsafe('RELEASE SAVEPOINT api_key_slot');
        return row;
      } catch (err) {
        await db.$executeRawUnsafe('ROLLBACK TO SAVEPOINT api_key_slot');
        // Another creation took that place first: look again.
        if (!isUniqueViolation(err)) throw err;
      }
    }
    throw conflict('too many API keys are being made for this owner at once; retry');
  }

  /**
   * A person's key always expires, within API_KEY_MAX_TTL (a credential that
   * outlives every session must not outlive the person's care for it); a
   * service account's key expires when the operator says, or never, as
   * Google Cloud's service-account keys and AWS access keys do.
   */
  function expiryFor(owner: KeyOwner, expires: string | Date | undefined): Date | null {
    const at = now();
    if (!('userId' in owner)) return expires !== undefined ? parseExpiry(expires, at) : null;
    const latest = at + personMaxTtl * 1000;
    if (expires === undefined) return new Date(Math.min(at + DEFAULT_PERSON_KEY_TTL * 1000, latest));
    const chosen = parseExpiry(expires, at);
    if (chosen.getTime() > latest) {
      throw invalidInput(
        `a person's key may live at most ${describeDuration(personMaxTtl)}: choose an expiry no later than ${new Date(latest).toISOString().slice(0, 16)}Z`,
      );
    }
    return chosen;
  }

  /**
   * The keys a filter selects, for the admin API's and the console's lists and
   * the overview's count alike. "Expiring within N days": live keys (not
   * revoked, owner enabled) whose expiry falls between now and N days from
   * now. "Last used": never, or last before a time (kept to about a minute:
   * see touch below, TOUCH_EVERY_MS).
   */
  function filterWhere(filter: ApiKeyFilter) {
    const at = now();
    const parts: object[] = [];
    if (filter.owner) parts.push('userId' in filter.owner ? { userId: filter.owner.userId } : { clientId: filter.owner.clientId });
    if (filter.expiringWithinDays !== undefined)
      parts.push({
        revokedAt: null,
        ownerDisabled: false,
        expiresAt: { gt: new Date(at), lte: new Date(at + filter.expiringWithinDays * 86_400_000) },
      });
    if (filter.neverUsed) parts.push({ lastUsedAt: null });
    if (filter.lastUsedBefore) parts.push({ lastUsedAt: { lt: filter.lastUsedBefore } });
    return { AND: parts };
  }

  async function ownerRow(owner: KeyOwner): Promise<{ disabled: boolean }> {
    if ('userId' in owner) {
      const user = await db.user.findUnique({ where: { id: owner.userId }, select: { disabled: true } });
      if (!user) throw notFound(`user ${owner.userId}`);
      return user;
    }
    const account = await serviceAccounts.forAssertion(owner.clientId);
    if (!account) throw notFound(`service account ${owner.clientId}`);
    return account;
  }

  /**
   * Records a use: last-used time and address at most once a minute per
   * key, and at once (with an audit entry) for an address the key was never
   * used from. Uses from new addresses are counted per key and hour; beyond
   * a few rows per key per minute they are only counted, so a key cycling
   * through addresses writes neither its row nor the audit trail on every
   * request. Not awaited by callers: a use never waits for this write.
   */
  function touch(row: Pick<Row, 'id' | 'lastUsedAt' | 'seenAddresses' | 'userId' | 'clientId'>, address: string | undefined): void {
    const at = now();
    const ip = normalizeAddress(address);
    const seen = row.seenAddresses ? (JSON.parse(row.seenAddresses) as string[]) : [];
    const isNew =
      ip !== undefined &&
      !seen.includes(ip) &&
      usage.keyNewAddress({ keyId: row.id, ...(row.userId ? { userId: row.userId } : { clientId: row.clientId! }) }, at);
    const last = Math.max(row.lastUsedAt?.getTime() ?? 0, touched.get(row.id) ?? 0);
    if (!isNew && at - last < TOUCH_EVERY_MS) return;
    const pending = `${row.id} ${ip}`;
    if (isNew && recording.has(pending)) return;
    if (touched.size >= 100_000) touched.clear();
    touched.set(row.id, at);
    if (isNew) recording.add(pending);
    const work = async () => {
      if (isNew) {
        // Conditional on the list as read: of two requests (or nodes) seeing the same new address,
        // one records it; one that lost the race to another address reads the list again and adds
        // its own. (Bounded: only a few new addresses per key per minute get here at all.)
        let list = row.seenAddresses;
        for (let attempt = 0; attempt < 2 * KEY_ADDRESS_ROWS_PER_MINUTE; attempt++) {
          const known = list ? (JSON.parse(list) as string[]) : [];
          if (known.includes(ip)) return;
          const { count } = await db.apiKey.updateMany({
            where: { id: row.id, seenAddresses: list },
            data: { lastUsedAt: new Date(at), lastUsedIp: ip, seenAddresses: JSON.stringify([...known, ip].slice(-SEEN_ADDRESSES)) },
          });
          if (count) {
            await audit.record('api_key_new_address', { ip, ...(row.userId ? { userId: row.userId } : { clientId: row.clientId! }) }, { key_id: row.id });
            return;
          }
          const current = await db.apiKey.findUnique({ where: { id: row.id }, select: { seenAddresses: true } });
          if (!current) return;
          list = current.seenAddresses;
        }
        return;
      }
      await db.apiKey.updateMany({
        where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(at - TOUCH_EVERY_MS) } }] },
        data: { lastUsedAt: new Date(at), ...(ip ? { lastUsedIp: ip } : {}) },
      });
    };
    work()
      .catch((err: unknown) => {
        // The next use tries again. Said, without the address (personal data) or anything of the key.
        touched.delete(row.id);
        log?.warn({ keyId: row.id, newAddress: isNew, err: describeDbError(err) }, 'API key last use not recorded');
      })
      .finally(() => recording.delete(pending));
  }

  /** What a new key (made here or imported) must be: its name, description, scopes the owner may hold, ranges and expiry. */
  async function checkKeyInput(input: Omit<CreateApiKeyInput, 'expires'> & { expires?: string | Date }, doing: 'creating' | 'importing') {
    const name = input.name.trim();
    if (!name || name.length > 100) throw invalidInput('name must be 1 to 100 characters');
    const description = input.description?.trim() || null;
    if (description && description.length > 500) throw invalidInput('description must be at most 500 characters');
    const owner = await ownerRow(input.owner);
    if (owner.disabled) throw invalidInput(`the owner is disabled; enable it before ${doing} keys`);
    const scopes = splitScope(checkScope(input.scope));
    await checkScopes(input.owner, scopes, input.resource);
    const cidrs = [...new Set((input.allowIps ?? []).map(checkCidr))];
    const expiresAt = expiryFor(input.owner, input.expires);
    // The stored columns a key made here and an imported one share.
    const columns = {
      ...('userId' in input.owner ? { userId: input.owner.userId } : { clientId: input.owner.clientId }),
      name,
      description,
      scope: scopes.join(' '),
      resource: input.resource ?? null,
      allowedCidrs: cidrs.length ? JSON.stringify(cidrs) : null,
      expiresAt,
    };
    return { columns };
  }

  return {
    format,
    /** API_KEY_MAX_PER_OWNER, for the pages that say it. */
    maxPerOwner,
    /** API_KEY_MAX_TTL, seconds (for pages that say so). */
    personMaxTtl,

    async create(input: CreateApiKeyInput, meta: RequestMeta = {}): Promise<{ key: string; record: ApiKeyRecord }> {
      const { columns } = await checkKeyInput(input, 'creating');
      const { key, display } = generateApiKey(format);
      // The key and its audit record: both or neither.
      const created = await transaction(async () => {
        const row = await insertInFreeSlot(input.owner, {
          id: `key_${randomBytes(12).toString('base64url')}`,
          secretHash: digest(key),
          display,
          ...columns,
          createdIp: normalizeAddress(meta.ip) ?? null,
        });
        const made = record(row);
        await audit.record(
          'api_key_created',
          { ...meta, ...ownerMeta(made) },
          { key_id: made.id, name: row.name, scope: row.scope, ...(row.resource ? { resource: row.resource } : {}) },
        );
        return made;
      });
      return { key, record: created };
    },

    /** Whether `token`, in no format of ours, might be an imported key worth one lookup. */
    mayBeImported: async (token: string) => !looksLikeApiKey(token, format) && IMPORTED_KEY.test(token) && (await anyImported()),

    /**
     * A key another product issued, kept working as it is: stored only as a
     * keyed hash of its SHA-256 (or of the SHA-256 that product kept), with
     * the same owner, scopes, resource, expiry and address rules as a key
     * made here. `existing` says it was imported before (nothing is written).
     */
    async import(
      input: ImportApiKeyInput,
      meta: RequestMeta = {},
      opts: { dryRun?: boolean } = {},
    ): Promise<{ record?: ApiKeyRecord; existing?: ApiKeyRecord }> {
      if ((input.key === undefined) === (input.keySha256 === undefined))
        throw invalidInput('give the key (--key-stdin) or its SHA-256 (--key-sha256), one of them');
      let shaBytes: Buffer;
      if (input.key !== undefined) {
        if (!IMPORTED_KEY.test(input.key)) throw invalidInput('key: must be 16 to 512 printable characters without spaces');
        if (looksLikeApiKey(input.key, format))
          throw invalidInput(`key: starts with ${format.prefix}_, Latchkey's own key prefix; such a key cannot be imported (make a new one)`);
        const random = input.key.replace(KEY_PREFIX, '');
        const weak = weakSecretProblem(random, 'key');
        if (weak) throw invalidInput(weak.replace('import it without and rotate it instead', 'give its owner a new key instead'));
        shaBytes = sha256(input.key);
      } else {
        if (!/^[0-9a-fA-F]{64}$/.test(input.keySha256!)) throw invalidInput('key_sha256: must be 64 hexadecimal characters (a SHA-256)');
        shaBytes = Buffer.from(input.keySha256!, 'hex');
      }
      const secretHash = importedDigest(shaBytes);
      const already = await db.apiKey.findUnique({ where: { secretHash } });
      if (already) return { existing: record(already) };
      const { columns } = await checkKeyInput(input, 'importing');
      if (opts.dryRun) return {};
      const created = await transaction(async () => {
        const row = await insertInFreeSlot(
          input.owner,
          {
            id: `key_${randomBytes(12).toString('base64url')}`,
            secretHash,
            display: importedDisplay(input),
            ...columns,
            createdIp: normalizeAddress(meta.ip) ?? null,
          },
          input.key !== undefined ? 'imported' : 'imported_sha256',
        );
        const made = record(row);
        await audit.record(
          'api_key_created',
          { ...meta, ...ownerMeta(made) },
          { key_id: made.id, name: row.name, scope: row.scope, imported: row.origin, ...(row.resource ? { resource: row.resource } : {}) },
        );
        return made;
      });
      await changes?.changed('api_keys');
      return { record: created };
    },

    /** A person's id or a service account's client id, as an owner. */
    async ownerFromId(id: string): Promise<KeyOwner> {
      if (await db.user.findUnique({ where: { id }, select: { id: true } })) return { userId: id };
      if (await serviceAccounts.forAssertion(id)) return { clientId: id };
      throw notFound(`user or service account ${id}`);
    },

    async list(filter: ApiKeyFilter = {}): Promise<ApiKeyRecord[]> {
      return (await db.apiKey.findMany({ where: filterWhere(filter), orderBy: { createdAt: 'asc' } })).map(record);
    },

    /** Oldest first, a page at a time (keyset on the creation time): an owner's, or everyone's, filtered (ApiKeyFilter). */
    async page(filter: ApiKeyFilter & PageRequest = {}): Promise<Page<ApiKeyRecord>> {
      const k = keyset('createdAt', filter);
      const rows = await db.apiKey.findMany({ where: { AND: [filterWhere(filter), k.where] }, orderBy: k.orderBy, take: k.take });
      return toPage(rows, k.take, (r) => ({ at: r.createdAt, id: r.id }), record);
    },

    /** How many keys the filter selects (one count query). */
    async count(filter: ApiKeyFilter = {}): Promise<number> {
      return db.apiKey.count({ where: filterWhere(filter) });
    },

    /** How many keys of the owner work now (not revoked, not expired). */
    async countLive(owner: KeyOwner): Promise<number> {
      const at = new Date(now());
      const rows = await db.apiKey.findMany({
        where: {
          ...('userId' in owner ? { userId: owner.userId } : { clientId: owner.clientId }),
          revokedAt: null,
          OR: [{ expiresAt: null }, { expiresAt: { gt: at } }],
        },
        select: { userId: true, expiresAt: true, createdAt: true },
      });
      return rows.filter((r) => {
        const e = expiryOf(r, personMaxTtl);
        return !e || e > at;
      }).length;
    },

    /** One key; with `owner`, only when it is that owner's (anything else is "not found"). */
    async get(id: string, owner?: KeyOwner): Promise<ApiKeyRecord> {
      const row = await db.apiKey.findUnique({ where: { id } });
      if (!row || (owner && !owns(owner, row))) throw notFound(`API key ${id}`);
      return record(row);
    },

    async revoke(id: string, meta: RequestMeta = {}, owner?: KeyOwner): Promise<ApiKeyRecord> {
      const row = await db.apiKey.findUnique({ where: { id } });
      if (!row || (owner && !owns(owner, row))) throw notFound(`API key ${id}`);
      if (row.revokedAt) return record(row);
      return transaction(async () => {
        const updated = record(await db.apiKey.update({ where: { id }, data: { revokedAt: new Date(now()), slot: null } }));
        await audit.record('api_key_revoked', { ...meta, ...ownerMeta(updated) }, { key_id: id, name: row.name });
        return updated;
      });
    },

    /** The scopes a person may put on a key of their own now, by API (what the account page offers). */
    async holdableScopes(userId: string): Promise<HoldableScopes[]> {
      const roles = await users.roles(userId);
      return (await resources.list())
        .filter((r) => forKeys(r.identifier))
        .map((r) => ({ resource: r.identifier, scopes: personScopesAt(r, roles) }))
        .filter((r) => r.scopes.length > 0);
    },

    /** What a checked key carries at `rs` now: within its owner's current grant or roles, nothing at Latchkey's own APIs. */
    scopesAt(check: Extract<KeyCheck, { active: true }>, rs: ResourceServerRecord): string[] {
      return scopesAt(check.key, check.holder, rs);
    },

    /** Whether `identifier` is an API keys may be for (not Latchkey's own API, nor the admin API). */
    isForKeys: forKeys,

    /**
     * Is `token` an active key, presented from `address` (when known)? With
     * `resources` (a resource server's APIs), only where its scopes meet one
     * of them, narrowed to what it carries there now. A key that fails its
     * checksum is refused before any lookup; anything else is one indexed
     * read (the key with its person's roles) plus cached resources and
     * service accounts. An active answer records the use.
     */
    async check(token: string, address?: string, opts: { resources?: readonly string[] } = {}): Promise<KeyCheck> {
      let hash: string;
      if (looksLikeApiKey(token, format)) {
        // Latchkey's own: a mistyped one is refused here, without a lookup.
        const shape = checkApiKeyShape(token, format);
        if (!shape.ok) return { active: false, reason: shape.reason };
        hash = digest(token);
      } else {
        // Any other shape may be an imported key: one indexed lookup, and none while no key was imported.
        if (!IMPORTED_KEY.test(token) || !(await anyImported())) return { active: false, reason: 'unknown' };
        hash = importedDigest(sha256(token));
      }
      const row = await keys.findBySecretHash(hash);
      if (!row) return { active: false, reason: 'unknown' };
      if (row.revokedAt) return { active: false, reason: 'revoked' };
      if (row.ownerDisabled) return { active: false, reason: 'owner_disabled' };
      const key = record(row);
      if (key.expiresAt && key.expiresAt.getTime() <= now()) return { active: false, reason: 'expired' };
      if (row.clientId) {
        // A service account's key never carries more than the account is granted now (cached per node, like the account).
        const account = await serviceAccounts.forAssertion(row.clientId);
        if (!account) return { active: false, reason: 'owner_disabled' };
        const granted = new Set(splitScope(account.metadata.scope));
        key.scopes = key.scopes.filter((s) => granted.has(s));
      } else if (!row.holder) {
        return { active: false, reason: 'owner_disabled' };
      }
      if (key.allowedCidrs.length && !addressAllowed(key.allowedCidrs, address)) return { active: false, reason: 'address' };
      const holder = row.holder ?? undefined;
      const at: KeyAtResource[] = [];
      if (opts.resources) {
        for (const identifier of opts.resources) {
          const rs = await resources.find(identifier);
          const scopes = rs ? scopesAt(key, holder, rs) : [];
          if (rs && scopes.length) at.push({ resource: rs, scopes });
        }
        if (!at.length) return { active: false, reason: 'not_allowed' };
      }
      touch(row, address);
      return { active: true, key, ...(holder ? { holder } : {}), at };
    },
  };
}

function owns(owner: KeyOwner, row: { userId: string | null; clientId: string | null }): boolean {
  return 'userId' in owner ? row.userId === owner.userId : row.clientId === owner.clientId;
}

/**
 * Every live key of a person, revoked: what a password reset, "sign out
 * everywhere" and disabling the person do to their keys, so that a key minted
 * with a stolen session does not outlive the owner taking the account back.
 * A statement for the caller's transaction (the keys go in the same commit
 * as the rest of that change); it counts the keys it revoked. Service
 * accounts' keys are never a person's and are not touched.
 */
export function revokePersonKeys(db: Db, userId: string, at: Date) {
  return db.apiKey.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: at, slot: null } });
}

const ownerMeta = (key: ApiKeyRecord) => (key.owner.kind === 'person' ? { userId: key.owner.id } : { clientId: key.owner.id });

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
