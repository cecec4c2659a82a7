// The indexes a token's writes keep up to date. A refresh writes two token
// rows and consumes a third; every index of the table is one more B-tree page
// written per row (SQLite's log, PostgreSQL's WAL and, for an update of an
// indexed column, a new entry in every index there). So a row enters the
// index of a column only when it has a value there: no token has a uid or a
// user code, a used assertion's jti has no person, client or grant. Nothing
// indexes the consumption time, which no query looks up. Every lookup by
// these columns (the store's, and the services' by person, client and grant)
// still uses its index.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { databaseKind, openStorage, type Storage } from '../../src/db/database.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/server.ts';

describe('the indexes of oidc_payloads', () => {
  let dir: string;
  let database: TestDatabase;
  let storage: Storage;
  const sqlite = () => databaseKind(database.url) === 'sqlite';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-indexes-'));
    database = await createTestDatabase(dir, { migrated: true });
    storage = await openStorage(database.url);
    // Rows as a server holds them: sessions with a uid and a person, a device code with a user code, grants with a person and
    // a client, a person's tokens with only their grant (src/oidc/adapter.ts), used assertion jtis with none of them.
    type Extra = { uid?: string; userCode?: string; accountId?: string; clientId?: string; grantId?: string };
    const row = (type: string, i: number, extra: Extra = {}) => ({ type, id: `${type}-${i}`, payload: '{}', ...extra });
    await storage.db.oidcPayload.createMany({
      data: [
        ...Array.from({ length: 200 }, (_, i) => row('Session', i, { uid: `uid-${i}`, accountId: `person-${i % 50}` })),
        ...Array.from({ length: 20 }, (_, i) => row('DeviceCode', i, { userCode: `code-${i}` })),
        ...Array.from({ length: 300 }, (_, i) => row('Grant', i, { accountId: `person-${i % 50}`, clientId: `app-${i % 5}` })),
        ...Array.from({ length: 2000 }, (_, i) => row('AccessToken', i, { grantId: `Grant-${i % 300}` })),
        ...Array.from({ length: 2000 }, (_, i) => row('AssertionJti', i)),
      ],
    });
    // PostgreSQL analyses a table as it fills (autovacuum), and on an empty one its primary key's index costs the planner about
    // what a partial one does. SQLite keeps no statistics unless told to, and Latchkey never tells it: its plans are read without.
    if (!sqlite()) await storage.db.$executeRawUnsafe('ANALYZE');
  });
  after(async () => {
    await storage?.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const definitions = async () => {
    const rows = sqlite()
      ? await storage.db.$queryRawUnsafe<{ name: string; sql: string }[]>(
          `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'oidc_payloads' AND sql IS NOT NULL`,
        )
      : await storage.db.$queryRawUnsafe<{ name: string; sql: string }[]>(
          `SELECT indexname AS name, indexdef AS sql FROM pg_indexes WHERE tablename = 'oidc_payloads'`,
        );
    return new Map(rows.map((r) => [r.name, r.sql]));
  };

  it('a row enters the index of a column only when it has a value there, and no index holds the consumption time', async () => {
    const defs = await definitions();
    const partial = [
      ['oidc_payloads_uid_idx', 'uid'],
      ['oidc_payloads_user_code_idx', 'user_code'],
      ['oidc_payloads_account_id_type_idx', 'account_id'],
      ['oidc_payloads_client_id_idx', 'client_id'],
      ['oidc_payloads_grant_id_idx', 'grant_id'],
    ] as const;
    for (const [index, column] of partial) {
      assert.match(defs.get(index) ?? '', new RegExp(`WHERE \\(?"?${column}"? IS NOT NULL\\)?$`, 'i'), `${index}: ${defs.get(index)}`);
    }
    // Nothing else: no index left over from a migration stopped part-way, none of the replaced ones.
    const expected = [...partial.map(([index]) => index), 'oidc_payloads_expires_at_idx', sqlite() ? undefined : 'oidc_payloads_pkey'];
    assert.deepEqual([...defs.keys()].sort(), expected.filter((i) => i !== undefined).sort());
    const consumed = [...defs].filter(([, sql]) => /consumed_at/.test(sql.replace(/WHERE.*$/s, '')));
    assert.deepEqual(consumed, [], 'no index on consumed_at');
  });

  // The statements as src/db/artifact-store.ts prepares them, and written out as the services' Prisma queries ask (a person's
  // sessions and grants, which src/services/people/user-sessions.ts sorts itself; a person's or a client's rows removed;
  // registered clients still in use), with their parameters unbound: the index must serve every value. On PostgreSQL
  // sequential scans are off, so the plan shows the index can answer; which one the planner then picks depends on the
  // table's statistics.
  const lookups = [
    ['a session by uid', 'SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = ? AND uid = ? LIMIT 1', ['Session', 'x'], 'uid_idx'],
    [
      'a device code by user code',
      'SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = ? AND user_code = ? LIMIT 1',
      ['DeviceCode', 'x'],
      'user_code_idx',
    ],
    ["a grant's tokens revoked", 'DELETE FROM oidc_payloads WHERE type = ? AND grant_id = ?', ['AccessToken', 'x'], 'grant_id_idx'],
    ["a person's sessions", 'SELECT id, payload, expires_at FROM oidc_payloads WHERE type = ? AND account_id = ?', ['Session', 'x'], 'account_id_type_idx'],
    ["a person's grants", 'SELECT id, payload, expires_at FROM oidc_payloads WHERE type = ? AND account_id = ?', ['Grant', 'x'], 'account_id_type_idx'],
    ["a person's rows removed", 'DELETE FROM oidc_payloads WHERE account_id = ?', ['x'], 'account_id_type_idx'],
    [
      "the rows of a person's grants removed (src/db/owned-artifacts.ts)",
      "DELETE FROM oidc_payloads WHERE grant_id IN (SELECT id FROM oidc_payloads WHERE type = 'Grant' AND account_id = ?)",
      ['x'],
      ['grant_id_idx', 'account_id_type_idx'],
    ],
    ["a client's rows removed", 'DELETE FROM oidc_payloads WHERE client_id = ?', ['x'], 'client_id_idx'],
    [
      "the rows of a client's grants removed (src/db/owned-artifacts.ts)",
      "DELETE FROM oidc_payloads WHERE grant_id IN (SELECT id FROM oidc_payloads WHERE type = 'Grant' AND client_id = ?)",
      ['x'],
      ['grant_id_idx', 'client_id_idx'],
    ],
    [
      'registered clients still in use',
      'SELECT DISTINCT client_id FROM oidc_payloads WHERE client_id IN (?, ?) AND type <> ?',
      ['x', 'y', 'RegistrationAccessToken'],
      'client_id_idx',
    ],
  ] as const;

  for (const [what, sql, params, indexOrIndexes] of lookups) {
    const indexes: readonly string[] = typeof indexOrIndexes === 'string' ? [indexOrIndexes] : indexOrIndexes;
    const index = indexes.join('_');
    it(`${what}: ${indexes.map((i) => `oidc_payloads_${i}`).join(' and ')} serve${indexes.length > 1 ? '' : 's'} it`, async () => {
      let plan: string;
      if (sqlite()) {
        plan = (await storage.db.$queryRawUnsafe<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${sql}`, ...params)).map((r) => r.detail).join('\n');
      } else {
        const name = `lk_plan_${index}`;
        let n = 0;
        const numbered = sql.replace(/\?/g, () => `$${++n}`);
        const [, , , rows] = await storage.db.$transaction([
          storage.db.$executeRawUnsafe('SET LOCAL plan_cache_mode = force_generic_plan'),
          storage.db.$executeRawUnsafe('SET LOCAL enable_seqscan = off'),
          storage.db.$executeRawUnsafe(`PREPARE ${name}(${params.map(() => 'text').join(', ')}) AS ${numbered}`),
          storage.db.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN EXECUTE ${name}(${params.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')})`),
          storage.db.$executeRawUnsafe(`DEALLOCATE ${name}`),
        ]);
        plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      }
      // SQLite: a search of the index, not a scan of all of it.
      for (const i of indexes) assert.match(plan, new RegExp(`${sqlite() ? 'SEARCH [^\\n]*' : ''}oidc_payloads_${i}\\b`), plan);
    });
  }
});
