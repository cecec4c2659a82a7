// The one read of a person that oidc-provider makes for every token it
// issues or serves (refresh, userinfo, introspection of a person's token):
// a prepared statement beside the artifact store's, for the same reason
// (Prisma's client costs 0.4–0.9 ms per statement; this costs microseconds).
import type pg from 'pg';
import type { SqliteDatabase } from './sqlite.ts';

export interface StoredAccount {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  disabled: boolean;
  createdAt: Date;
  /** The language of their pages and mail, when they chose or used one. */
  locale: string | null;
}

export interface AccountStore {
  find(id: string): Promise<StoredAccount | undefined>;
}

const COLUMNS = ['id', 'email', 'email_verified', 'name', 'disabled', 'created_at', 'locale'];
const SELECT = `SELECT ${COLUMNS.join(', ')} FROM users WHERE id =`;

/** The columns of a person, as another statement selects them beside its own (prefixed `u_`; see artifact-store's findWithRelated). */
export const ACCOUNT_COLUMNS_AS_U = COLUMNS.map((c) => `u.${c} AS u_${c}`).join(', ');

export interface AccountRow {
  id: string;
  email: string;
  email_verified: number | boolean;
  name: string | null;
  disabled: number | boolean;
  created_at: string | Date;
  locale: string | null;
}

export const toAccount = (r: AccountRow | undefined): StoredAccount | undefined =>
  r && {
    id: r.id,
    email: r.email,
    emailVerified: Boolean(r.email_verified),
    name: r.name,
    disabled: Boolean(r.disabled),
    createdAt: new Date(r.created_at),
    locale: r.locale,
  };

export function sqliteAccountStore(db: SqliteDatabase): AccountStore {
  const find = db.prepare(`${SELECT} ?`);
  return { find: async (id) => toAccount(find.get(id) as AccountRow | undefined) };
}

export function postgresAccountStore(pool: pg.Pool): AccountStore {
  return {
    async find(id) {
      const { rows } = await pool.query<AccountRow>({ name: 'lk_account', text: `${SELECT} $1`, values: [id] });
      return toAccount(rows[0]);
    },
  };
}
