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

interface Row {
  id: string;
  secret_hash: string;
  display: string;
  user_id: string | null;
  client_id: string | null;
  owner_disabled: number | boolean;
  name: string;
  description: string | null;
  scope: string;
  resource: string | null;
  allowed_cidrs: string | null;
  expires_at: string | Date | null;
  created_at: string | Date;
  created_ip: string | null;
  last_used_at: string | Date | null;
  last_used_ip: string | null;
  seen_addresses: string | null;
  revoked_at: string | Date | null;
  slot: number | null;
  origin: string;
  u_email: string | null;
  u_email_verified: number | boolean | null;
  u_name: string | null;
  /** JSON text (SQLite) or an array (PostgreSQL). */
  u_roles: string | string[] | null;
}

const date = (d: string | Date | null) => (d === null ? null : new Date(d));

const rolesOf = (roles: Row['u_roles']): string[] => (roles === null ? [] : typeof roles === 'string' ? (JSON.parse(roles) as string[]) : roles);

function toKey(r: Row | undefined): StoredApiKey | undefined {
  if (!r) return undefined;
  return {
    id: r.id,
    secretHash: r.secret_hash,
    display: r.display,
    userId: r.user_id,
    clientId: r.client_id,
    ownerDisabled: Boolean(r.owner_disabled),
    name: r.name,
    description: r.description,
    scope: r.scope,
    resource: r.resource,
    allowedCidrs: r.allowed_cidrs,
    expiresAt: date(r.expires_at),
    createdAt: new Date(r.created_at),
    createdIp: r.created_ip,
    lastUsedAt: date(r.last_used_at),
    lastUsedIp: r.last_used_ip,
    seenAddresses: r.seen_addresses,
    revokedAt: date(r.revoked_at),
    slot: r.slot === null ? null : Number(r.slot),
    origin: r.origin,
    holder:
      r.user_id && r.u_email !== null
        ? {
            email: r.u_email,
            emailVerified: Boolean(r.u_email_verified),
            name: r.u_name,
            roles: rolesOf(r.u_roles),
          }
        : null,
  };
}

export function sqliteApiKeyStore(db: SqliteDatabase): ApiKeyStore {
  const find = db.prepare(SQLITE_SELECT);
  return { findBySecretHash: async (hash) => toKey(find.get(hash) as Row | undefined) };
}

export function postgresApiKeyStore(pool: pg.Pool): ApiKeyStore {
  return {
    async findBySecretHash(hash) {
      const { rows } = await pool.query<Row>({ name: 'lk_api_key_one_row', text: POSTGRES_SELECT, values: [hash] });
      return toKey(rows[0]);
    },
  };
}
