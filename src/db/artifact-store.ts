// The statements of the hot path, on the oidc_payloads table that Prisma
// owns (schema and migrations): every token, code, session and interaction
// read or write goes through here. Prisma's client costs 0.4–0.9 ms per
// statement in query planning and mapping (bench/README.md); these are
// prepared once per connection and cost tens of microseconds — libsql's
// synchronous statements on SQLite, named prepared statements on PostgreSQL.
import type pg from 'pg';
import { ACCOUNT_COLUMNS_AS_U, toAccount, type AccountRow, type StoredAccount } from './account-store.ts';
import { sqliteDate, type GroupCommit, type SqliteDatabase } from './sqlite.ts';

export interface StoredArtifact {
  payload: string;
  expiresAt: Date | null;
  consumedAt: Date | null;
}

export interface ArtifactColumns {
  payload: string;
  grantId: string | null;
  userCode: string | null;
  uid: string | null;
  accountId: string | null;
  clientId: string | null;
  expiresAt: Date | null;
}

/** A row with the grant and the person it names, as one statement read them. */
export interface WithRelated {
  row?: StoredArtifact;
  /** There when the row names a grant (its grant_id), whether or not that grant is stored. */
  grant?: { id: string; row?: StoredArtifact };
  /** There when the row or its grant names a person (account_id), whether or not that person exists. */
  account?: { id: string; row?: StoredAccount };
}

export interface ArtifactWrite {
  type: string;
  id: string;
  columns: ArtifactColumns;
}

export type OneOrTwoWrites = readonly [ArtifactWrite] | readonly [ArtifactWrite, ArtifactWrite];

/** A consumption, as `consume` takes it. */
export interface ArtifactConsumption {
  type: string;
  id: string;
  at: Date;
  graceSince?: Date;
}

export interface ArtifactStore {
  find(type: string, id: string): Promise<StoredArtifact | undefined>;
  /**
   * The row of `type` under `id` and, in the same statement, the grant it
   * names and its person: what the use of a token or code reads next
   * (src/db/read-ahead.ts). Three primary-key reads in one round trip.
   */
  findWithRelated(type: string, id: string): Promise<WithRelated>;
  /** The rows stored under `id` for each of up to three `types`, by type: one statement (the types' primary keys). */
  findAmong(types: readonly string[], id: string): Promise<Map<string, StoredArtifact>>;
  findByColumn(type: string, column: 'uid' | 'userCode', value: string): Promise<StoredArtifact | undefined>;
  upsert(type: string, id: string, columns: ArtifactColumns): Promise<void>;
  /** Two upserts of different rows as one statement (src/db/held-writes.ts). */
  upsertTwo(first: ArtifactWrite, second: ArtifactWrite): Promise<void>;
  /**
   * Marks it consumed unless it already was; false when it was (or does not
   * exist). With `graceSince`, one consumed at or after that time counts as
   * consumed now too (true) and keeps its first consumption time: the refresh
   * reuse grace (src/oidc/refresh-grace.ts), decided by one statement.
   */
  consume(type: string, id: string, at: Date, graceSince?: Date): Promise<boolean>;
  /**
   * `consume`, and the upserts (of one or two different rows) only when it
   * consumed, as one statement (src/db/held-writes.ts): true when it consumed
   * and wrote them, false when it wrote nothing.
   */
  consumeAndUpsert(consumption: ArtifactConsumption, rows: OneOrTwoWrites): Promise<boolean>;
  destroy(type: string, id: string): Promise<void>;
  revokeByGrantId(type: string, grantId: string): Promise<void>;
  /** Inserts a marker unless a live one exists (a used jti); true when it was new. `now` decides which are live (default: the time now). */
  insertOnce(type: string, id: string, expiresAt: Date, now?: Date): Promise<boolean>;
}

/** `types` as the three parameters of one prepared statement (a shorter list repeats its last). */
function threeTypes(types: readonly string[]): [string, string, string] {
  if (types.length < 1 || types.length > 3) throw new RangeError('findAmong takes one to three types');
  const last = types[types.length - 1]!;
  return [types[0]!, types[1] ?? last, types[2] ?? last];
}

// A row issued under a grant names its person only through the grant (src/oidc/adapter.ts, upsert): the person read is the
// row's own or, when it names none, its grant's.
const withRelatedSql = (typeParam: string, idParam: string) => `SELECT t.payload, t.expires_at, t.consumed_at, t.grant_id,
  COALESCE(t.account_id, g.account_id) AS account_id,
  g.payload AS g_payload, g.expires_at AS g_expires_at, g.consumed_at AS g_consumed_at, ${ACCOUNT_COLUMNS_AS_U}
  FROM oidc_payloads t
  LEFT JOIN oidc_payloads g ON g.type = 'Grant' AND g.id = t.grant_id
  LEFT JOIN users u ON u.id = COALESCE(t.account_id, g.account_id)
  WHERE t.type = ${typeParam} AND t.id = ${idParam}`;

type RelatedRow = { payload: string; expires_at: unknown; consumed_at: unknown; grant_id: string | null; account_id: string | null } & {
  g_payload: string | null;
  g_expires_at: unknown;
  g_consumed_at: unknown;
} & { [K in keyof AccountRow as `u_${K}`]: AccountRow[K] | null };

/** One statement's row of findWithRelated, with `read` the database's own reading of an artifact row. */
function withRelated(
  r: RelatedRow | undefined,
  read: (row: { payload: string; expires_at: unknown; consumed_at: unknown }) => StoredArtifact | undefined,
): WithRelated {
  if (!r) return {};
  const grant = r.g_payload === null ? undefined : read({ payload: r.g_payload, expires_at: r.g_expires_at, consumed_at: r.g_consumed_at });
  const account =
    r.u_id === null
      ? undefined
      : toAccount({
          id: r.u_id,
          email: r.u_email!,
          email_verified: r.u_email_verified!,
          name: r.u_name,
          disabled: r.u_disabled!,
          created_at: r.u_created_at!,
          locale: r.u_locale,
        });
  return {
    row: read(r),
    grant: r.grant_id === null ? undefined : { id: r.grant_id, row: grant },
    account: r.account_id === null ? undefined : { id: r.account_id, row: account },
  };
}

/** PostgreSQL refuses one statement that updates a row twice: the two writes are of different rows. */
function twoRows(first: ArtifactWrite, second: ArtifactWrite): void {
  if (first.type === second.type && first.id === second.id) throw new RangeError('upsertTwo takes two different rows');
}

const UPSERT_COLUMNS = 'type, id, payload, grant_id, user_code, uid, account_id, client_id, expires_at';
/** PostgreSQL's consumption (after `UPDATE oidc_payloads`), with its parameters' places: the time, the type, the id. */
const CONSUME = (at: string, type: string, id: string) => `SET consumed_at = ${at} WHERE type = ${type} AND id = ${id} AND consumed_at IS NULL`;
/** The same within the refresh reuse grace: one consumed since `since` counts as consumed now, and keeps its first time. */
const CONSUME_GRACE = (at: string, type: string, id: string, since: string) =>
  `SET consumed_at = COALESCE(consumed_at, ${at}) WHERE type = ${type} AND id = ${id} AND (consumed_at IS NULL OR consumed_at >= ${since})`;
const ON_CONFLICT_UPDATE = `payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
  uid = excluded.uid, account_id = excluded.account_id, client_id = excluded.client_id, expires_at = excluded.expires_at`;

/**
 * SQLite: reads run at once on our connection; writes go through `write`
 * (src/db/sqlite.ts groupCommit): the writes of one turn of the event loop
 * share a transaction, and each resolves once it committed.
 */
export function sqliteArtifactStore(db: SqliteDatabase, write: GroupCommit): ArtifactStore {
  const q = {
    find: db.prepare('SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = ? AND id = ?'),
    // One row, each type's columns side by side, read with `get`: the `IN` statement this replaces returned a row per type,
    // which libsql's `all` reads through an iterator over a batch of a hundred; measured, 6–8 µs more per lookup, 2–3 % of
    // an opaque token's introspection (bench/README.md, "Stop 48").
    among: db.prepare(`SELECT t1.payload AS p1, t1.expires_at AS e1, t1.consumed_at AS c1,
      t2.payload AS p2, t2.expires_at AS e2, t2.consumed_at AS c2, t3.payload AS p3, t3.expires_at AS e3, t3.consumed_at AS c3
      FROM (SELECT ?1 AS a, ?2 AS b, ?3 AS c, ?4 AS id) k
      LEFT JOIN oidc_payloads t1 ON t1.type = k.a AND t1.id = k.id
      LEFT JOIN oidc_payloads t2 ON t2.type = k.b AND t2.id = k.id
      LEFT JOIN oidc_payloads t3 ON t3.type = k.c AND t3.id = k.id`),
    withRelated: db.prepare(withRelatedSql('?', '?')),
    byUid: db.prepare('SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = ? AND uid = ? LIMIT 1'),
    byUserCode: db.prepare('SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = ? AND user_code = ? LIMIT 1'),
    upsert: db.prepare(
      `INSERT INTO oidc_payloads (${UPSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (type, id) DO UPDATE SET ${ON_CONFLICT_UPDATE}`,
    ),
    consume: db.prepare('UPDATE oidc_payloads SET consumed_at = ? WHERE type = ? AND id = ? AND consumed_at IS NULL'),
    consumeGrace: db.prepare(
      'UPDATE oidc_payloads SET consumed_at = COALESCE(consumed_at, ?) WHERE type = ? AND id = ? AND (consumed_at IS NULL OR consumed_at >= ?)',
    ),
    destroy: db.prepare('DELETE FROM oidc_payloads WHERE type = ? AND id = ?'),
    revoke: db.prepare('DELETE FROM oidc_payloads WHERE type = ? AND grant_id = ?'),
    insertOnce: db.prepare(`INSERT INTO oidc_payloads (type, id, payload, expires_at) VALUES (?, ?, '{}', ?)
      ON CONFLICT (type, id) DO UPDATE SET expires_at = excluded.expires_at WHERE oidc_payloads.expires_at < ?`),
  };
  type Row = { payload: string; expires_at: string | null; consumed_at: string | null };
  /** `among`'s one row: payload, expiry and consumption of each of the three types asked for. */
  type AmongRow = Record<'p1' | 'e1' | 'c1' | 'p2' | 'e2' | 'c2' | 'p3' | 'e3' | 'c3', string | null>;
  const stored = (payload: string, expiresAt: string | null, consumedAt: string | null): StoredArtifact => ({
    payload,
    expiresAt: expiresAt ? new Date(expiresAt) : null,
    consumedAt: consumedAt ? new Date(consumedAt) : null,
  });
  const read = (row: unknown): StoredArtifact | undefined => {
    if (!row) return undefined;
    const r = row as Row;
    return stored(r.payload, r.expires_at, r.consumed_at);
  };
  const date = (d: Date | null) => (d ? sqliteDate(d) : null);
  /** Run inside a write of the group commit. */
  const upsertNow = ({ type, id, columns: c }: ArtifactWrite) => {
    q.upsert.run(type, id, c.payload, c.grantId, c.userCode, c.uid, c.accountId, c.clientId, date(c.expiresAt));
  };
  const consumeNow = ({ type, id, at, graceSince }: ArtifactConsumption) =>
    (graceSince ? q.consumeGrace.run(sqliteDate(at), type, id, sqliteDate(graceSince)) : q.consume.run(sqliteDate(at), type, id)).changes === 1;
  return {
    find: async (type, id) => read(q.find.get(type, id)),
    findAmong: async (types, id) => {
      const [a, b, c] = threeTypes(types);
      const r = q.among.get(a, b, c, id) as AmongRow;
      const found = new Map<string, StoredArtifact>();
      // A stored row always has a payload (NOT NULL): none means that type has no row under the id.
      if (r.p1 !== null) found.set(a, stored(r.p1, r.e1, r.c1));
      if (r.p2 !== null) found.set(b, stored(r.p2, r.e2, r.c2));
      if (r.p3 !== null) found.set(c, stored(r.p3, r.e3, r.c3));
      return found;
    },
    findWithRelated: async (type, id) => withRelated(q.withRelated.get(type, id) as RelatedRow | undefined, read),
    findByColumn: async (type, column, value) => read((column === 'uid' ? q.byUid : q.byUserCode).get(type, value)),
    upsert: (type, id, columns) => write(() => upsertNow({ type, id, columns })),
    // One write of the group commit (its batch's transaction); SQLite statements cost no round trip.
    upsertTwo: (...rows) =>
      write(() => {
        twoRows(...rows);
        for (const row of rows) upsertNow(row);
      }),
    consume: (type, id, at, graceSince) => write(() => consumeNow({ type, id, at, graceSince })),
    consumeAndUpsert: (consumption, rows) =>
      write(() => {
        if (rows.length === 2) twoRows(...rows);
        if (!consumeNow(consumption)) return false;
        for (const row of rows) upsertNow(row);
        return true;
      }),
    destroy: (type, id) =>
      write(() => {
        q.destroy.run(type, id);
      }),
    revokeByGrantId: (type, grantId) =>
      write(() => {
        q.revoke.run(type, grantId);
      }),
    insertOnce: (type, id, expiresAt, now = new Date()) => write(() => q.insertOnce.run(type, id, sqliteDate(expiresAt), sqliteDate(now)).changes === 1),
  };
}

const PG_WITH_RELATED = withRelatedSql('$1', '$2');

/**
 * PostgreSQL's consume-and-upsert statement for one or two rows, with or
 * without the reuse grace: four texts, each built once (a refresh's text
 * was built again at every refresh, 10–20 µs of its CPU).
 */
const consumeAndUpsertSql = (() => {
  const built = new Map<string, { name: string; text: string }>();
  return (rowCount: number, grace: boolean) => {
    const name = `lk_consume${grace ? '_grace' : ''}_upsert_${rowCount}`;
    let sql = built.get(name);
    if (!sql) {
      // Nine parameters a row ($1…$9, $10…$18), then the consumption's.
      const tuples = Array.from({ length: rowCount }, (_, r) => `(${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')}::timestamp(3))`);
      const [a, t, i, since] = [1, 2, 3, 4].map((k) => `$${rowCount * 9 + k}`) as [string, string, string, string];
      sql = {
        name,
        text: `WITH consumed AS (UPDATE oidc_payloads ${grace ? CONSUME_GRACE(a, t, i, since) : CONSUME(a, t, i)} RETURNING 1)
         INSERT INTO oidc_payloads (${UPSERT_COLUMNS})
         SELECT * FROM (VALUES ${tuples.join(', ')}) AS v
         WHERE EXISTS (SELECT 1 FROM consumed)
         ON CONFLICT (type, id) DO UPDATE SET ${ON_CONFLICT_UPDATE}`,
      };
      built.set(name, sql);
    }
    return sql;
  };
})();

/**
 * PostgreSQL: `timestamp(3)` columns without a time zone, in UTC, as Prisma
 * writes them; the pool given here parses them as UTC (see database.ts).
 */
export function postgresArtifactStore(pool: pg.Pool): ArtifactStore {
  // 2026-12-07T18:30:42.123Z → 2026-12-07 18:30:42.123
  const ts = (d: Date | null) => {
    if (!d) return null;
    const iso = d.toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
  };
  const run = (name: string, text: string, values: unknown[]) => pool.query({ name, text, values });
  const values = ({ type, id, columns: c }: ArtifactWrite) => [type, id, c.payload, c.grantId, c.userCode, c.uid, c.accountId, c.clientId, ts(c.expiresAt)];
  type Row = { payload: string; expires_at: Date | null; consumed_at: Date | null };
  const read = (rows: Row[]): StoredArtifact | undefined => {
    const r = rows[0];
    return r && { payload: r.payload, expiresAt: r.expires_at, consumedAt: r.consumed_at };
  };
  return {
    async findAmong(types, id) {
      const sql = 'SELECT type, payload, expires_at, consumed_at FROM oidc_payloads WHERE type IN ($1, $2, $3) AND id = $4';
      const { rows } = await run('lk_find_among', sql, [...threeTypes(types), id]);
      return new Map((rows as (Row & { type: string })[]).map((r) => [r.type, read([r])!]));
    },
    async findWithRelated(type, id) {
      const { rows } = await run('lk_find_with_related', PG_WITH_RELATED, [type, id]);
      return withRelated(rows[0] as RelatedRow | undefined, (r) => read([r as Row]));
    },
    async find(type, id) {
      return read((await run('lk_find', 'SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = $1 AND id = $2', [type, id])).rows);
    },
    async findByColumn(type, column, value) {
      const sql = `SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = $1 AND ${column === 'uid' ? 'uid' : 'user_code'} = $2 LIMIT 1`;
      return read((await run(`lk_find_${column}`, sql, [type, value])).rows);
    },
    async upsert(type, id, c) {
      await run(
        'lk_upsert',
        `INSERT INTO oidc_payloads (${UPSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (type, id) DO UPDATE SET ${ON_CONFLICT_UPDATE}`,
        values({ type, id, columns: c }),
      );
    },
    async upsertTwo(first, second) {
      twoRows(first, second);
      await run(
        'lk_upsert_two',
        `INSERT INTO oidc_payloads (${UPSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (type, id) DO UPDATE SET ${ON_CONFLICT_UPDATE}`,
        [...values(first), ...values(second)],
      );
    },
    async consume(type, id, at, graceSince) {
      const res = graceSince
        ? await run('lk_consume_grace', `UPDATE oidc_payloads ${CONSUME_GRACE('$1', '$2', '$3', '$4')}`, [ts(at), type, id, ts(graceSince)])
        : await run('lk_consume', `UPDATE oidc_payloads ${CONSUME('$1', '$2', '$3')}`, [ts(at), type, id]);
      return res.rowCount === 1;
    },
    // The consumption as a data-modifying CTE: the rows are inserted only if it
    // updated its row. Of two such statements for one row, the second waits for
    // the first's row lock, then finds it consumed (READ COMMITTED re-checks
    // the WHERE on the row's new version) and inserts nothing.
    async consumeAndUpsert({ type, id, at, graceSince }, rows) {
      if (rows.length === 2) twoRows(...rows);
      const { name, text } = consumeAndUpsertSql(rows.length, Boolean(graceSince));
      const res = await run(name, text, [...rows.flatMap(values), ts(at), type, id, ...(graceSince ? [ts(graceSince)] : [])]);
      return res.rowCount === rows.length;
    },
    async destroy(type, id) {
      await run('lk_destroy', 'DELETE FROM oidc_payloads WHERE type = $1 AND id = $2', [type, id]);
    },
    async revokeByGrantId(type, grantId) {
      await run('lk_revoke', 'DELETE FROM oidc_payloads WHERE type = $1 AND grant_id = $2', [type, grantId]);
    },
    async insertOnce(type, id, expiresAt, now = new Date()) {
      const res = await run(
        'lk_insert_once',
        `INSERT INTO oidc_payloads (type, id, payload, expires_at) VALUES ($1, $2, '{}', $3)
         ON CONFLICT (type, id) DO UPDATE SET expires_at = excluded.expires_at WHERE oidc_payloads.expires_at < $4`,
        [type, id, ts(expiresAt), ts(now)],
      );
      return res.rowCount === 1;
    },
  };
}
