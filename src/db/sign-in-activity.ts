// Sign-ins and failed sign-ins per hour from the audit trail, in one grouped
// statement: the (type, at) index gives each type's range, and only the
// counts per hour come back (at most 24 × 30 × 2 rows for 30 days), never the
// events. The hour is cut from the stored value as each database stores it
// (src/db/bulk-insert.ts): on SQLite a DateTime is text
// `2026-12-04T16:30:00.000+00:00`, on PostgreSQL a timestamp(3) holding UTC.
import type { DbKind } from './database.ts';

interface RawQuerier {
  $queryRawUnsafe<T = unknown>(sql: string, ...values: unknown[]): Promise<T>;
}

export const SIGN_IN_TYPES = ['login_succeeded', 'login_failed'] as const;
export type SignInType = (typeof SIGN_IN_TYPES)[number];

const TYPES = SIGN_IN_TYPES.map((t) => `'${t}'`).join(', ');
export const SQLITE_SIGN_INS = `SELECT type, substr(at, 1, 13) AS hour, SUM(COALESCE(count, 1)) AS n FROM audit_events
  WHERE type IN (${TYPES}) AND at >= ? GROUP BY type, hour`;
export const POSTGRES_SIGN_INS = `SELECT type, to_char(at, 'YYYY-MM-DD"T"HH24') AS hour, SUM(COALESCE(count, 1))::int AS n FROM audit_events
  WHERE type IN (${TYPES}) AND at >= $1::timestamp GROUP BY type, hour`;

/** How many of each type per UTC hour since `since` (hours as `YYYY-MM-DDTHH`); hours without any are absent. */
export async function signInsPerHour(db: RawQuerier, kind: DbKind, since: Date): Promise<{ type: SignInType; hour: string; count: number }[]> {
  const rows =
    kind === 'sqlite'
      ? await db.$queryRawUnsafe<{ type: SignInType; hour: string; n: number | bigint }[]>(SQLITE_SIGN_INS, since.toISOString().replace('Z', '+00:00'))
      : await db.$queryRawUnsafe<{ type: SignInType; hour: string; n: number | bigint }[]>(POSTGRES_SIGN_INS, since.toISOString().replace('Z', ''));
  return rows.map((r) => ({ type: r.type, hour: r.hour, count: Number(r.n) }));
}
