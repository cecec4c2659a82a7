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

// One row per role of the owner (one with a null role when they have none).
const SELECT = `SELECT k.id, k.secret_hash, k.display, k.user_id, k.client_id, k.owner_disabled, k.name, k.description, k.scope,
  k.resource, k.allowed_cidrs, k.expires_at, k.created_at, k.created_ip, k.last_used_at, k.last_used_ip, k.seen_addresses,
  k.revoked_at, k.slot, u.email AS u_email, u.email_verified AS u_email_verified, u.name AS u_name, r.role AS u_role
  FROM api_keys k LEFT JOIN users u ON u.id = k.user_id LEFT JOIN user_roles r ON r.user_id = k.user_id
  WHERE k.secret_hash = $HASH ORDER BY r.role`;

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
  u_email: string | null;
  u_email_verified: number | boolean | null;
  u_name: string | null;
  u_role: string | null;
}

const date = (d: string | Date | null) => (d === null ? null : new Date(d));

function toKey(rows: Row[]): StoredApiKey | undefined {
  const r = rows[0];
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
    holder:
      r.user_id && r.u_email !== null
        ? {
            email: r.u_email,
            emailVerified: Boolean(r.u_email_verified),
            name: r.u_name,
            roles: rows.map((x) => x.u_role).filter((x): x is string => x !== null),
          }
        : null,
  };
}

export function sqliteApiKeyStore(db: SqliteDatabase): ApiKeyStore {
  const find = db.prepare(SELECT.replace('$HASH', '?'));
  return { findBySecretHash: async (hash) => toKey(find.all(hash) as Row[]) };
}

export function postgresApiKeyStore(pool: pg.Pool): ApiKeyStore {
  return {
    async findBySecretHash(hash) {
      const { rows } = await pool.query<Row>({ name: 'lk_api_key', text: SELECT.replace('$HASH', '$1'), values: [hash] });
      return toKey(rows);
    },
  };
}
