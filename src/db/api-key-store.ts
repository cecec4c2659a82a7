// The one read behind every check of an API key (introspection, exchange): the
// key's row, and for a person's key what the person is now — their roles (what
// they may hold, src/services/apis/person-scopes.ts) and the claims an API may ask
// for — in one indexed statement (the key by its unique hash, the person by
// primary key, their roles by the (user_id, role) primary key's prefix). A
// prepared statement beside the account store's, for the same reason.
import type pg from 'pg';
import type { ApiKey } from '../generated/sqlite/client.ts';
import type { SqliteDatabase } from './sqlite.ts';

/** What a person's key answers for: the person as they are now. */
export interface KeyHolder {
  email: string;
  emailVerified: boolean;
  name: string | null;
  roles: string[];
}

export type StoredApiKey = ApiKey & { holder: KeyHolder | null };

export interface ApiKeyStore {
  findBySecretHash(secretHash: string): Promise<StoredApiKey | undefined>;
}

// One row: the key, its person (if any) and the person's roles gathered by a
// subquery on the (user_id, role) primary key's prefix — a single-row read
// (libsql's `get`, one native call) instead of one row per role to iterate.
const COLUMNS = `k.id, k.secret_hash, k.display, k.user_id, k.client_id, k.owner_disabled, k.name, k.description, k.scope,
  k.resource, k.allowed_cidrs, k.expires_at, k.created_at, k.created_ip, k.last_used_at, k.last_used_ip, k.seen_addresses,
  k.revoked_at, k.slot, k.origin, u.email AS u_email, u.email_verified AS u_email_verified, u.name AS u_name`;
const FROM = 'FROM api_keys k LEFT JOIN users u ON u.id = k.user_id';
const SQLITE_SELECT = `SELECT ${COLUMNS},
  (SELECT json_group_array(role) FROM (SELECT r.role FROM user_roles r WHERE r.user_id = k.user_id ORDER BY r.role)) AS u_roles
  ${FROM} WHERE k.secret_hash = ?`;
const POSTGRES_SELECT = `SELECT ${COLUMNS},
  ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = k.user_id ORDER BY r.role) AS u_roles
  ${FROM} WHERE k.secret_hash = $1`;

/**
 * A row as the driver hands it over: a list in COLUMNS' order, not an object.
 * Building a 24-property object per row (names interned one by one through
 * the binding) cost the key check more than the lookup itself.
 */
type Row = [
  id: string,
  secretHash: string,
  display: string,
  userId: string | null,
  clientId: string | null,
  ownerDisabled: number | boolean,
  name: string,
  description: string | null,
  scope: string,
  resource: string | null,
  allowedCidrs: string | null,
  expiresAt: string | Date | null,
  createdAt: string | Date,
  createdIp: string | null,
  lastUsedAt: string | Date | null,
  lastUsedIp: string | null,
  seenAddresses: string | null,
  revokedAt: string | Date | null,
  slot: number | null,
  origin: string,
  email: string | null,
  emailVerified: number | boolean | null,
  userName: string | null,
  /** JSON text (SQLite) or an array (PostgreSQL). */
  roles: string | string[] | null,
];

const date = (d: string | Date | null) => (d === null ? null : new Date(d));

const rolesOf = (roles: Row[23]): string[] => (roles === null ? [] : typeof roles === 'string' ? (JSON.parse(roles) as string[]) : roles);

function toKey(r: Row | undefined): StoredApiKey | undefined {
  if (!r) return undefined;
  const [
    id,
    secretHash,
    display,
    userId,
    clientId,
    ownerDisabled,
    name,
    description,
    scope,
    resource,
    allowedCidrs,
    expiresAt,
    createdAt,
    createdIp,
    lastUsedAt,
    lastUsedIp,
    seenAddresses,
    revokedAt,
    slot,
    origin,
    email,
    emailVerified,
    userName,
    roles,
  ] = r;
  return {
    id,
    secretHash,
    display,
    userId,
    clientId,
    ownerDisabled: Boolean(ownerDisabled),
    name,
    description,
    scope,
    resource,
    allowedCidrs,
    expiresAt: date(expiresAt),
    createdAt: new Date(createdAt),
    createdIp,
    lastUsedAt: date(lastUsedAt),
    lastUsedIp,
    seenAddresses,
    revokedAt: date(revokedAt),
    slot: slot === null ? null : Number(slot),
    origin,
    holder: userId && email !== null ? { email, emailVerified: Boolean(emailVerified), name: userName, roles: rolesOf(roles) } : null,
  };
}

export function sqliteApiKeyStore(db: SqliteDatabase): ApiKeyStore {
  const find = db.prepare(SQLITE_SELECT).raw(true);
  return { findBySecretHash: async (hash) => toKey(find.get(hash) as Row | undefined) };
}

export function postgresApiKeyStore(pool: pg.Pool): ApiKeyStore {
  return {
    async findBySecretHash(hash) {
      const { rows } = await pool.query<Row>({ name: 'lk_api_key_one_row', text: POSTGRES_SELECT, values: [hash], rowMode: 'array' });
      return toKey(rows[0]);
    },
  };
}
