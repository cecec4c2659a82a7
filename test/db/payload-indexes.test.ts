// The indexes a token's writes keep up to date. A refresh writes two token
// rows and consumes a third; every index of the table is one more B-tree page
// written per row (SQLite's log, PostgreSQL's WAL and, for an update of an
// indexed column, a new entry in every index there). So rows without a uid or
// user code (every token) enter no index of those columns, and nothing
// indexes the consumption time, which no query looks up; the lookups by uid
// (sessions, interactions) and user code (device flow) still use their index.
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
    // Rows as a server holds them (sessions with a uid, a device code with a user code, tokens with neither), and their statistics:
    // on an empty table the primary key's index costs the planner about what the partial one does.
    const row = (type: string, i: number, extra: { uid?: string; userCode?: string } = {}) => ({ type, id: `${type}-${i}`, payload: '{}', ...extra });
    await storage.db.oidcPayload.createMany({
      data: [
        ...Array.from({ length: 200 }, (_, i) => row('Session', i, { uid: `uid-${i}` })),
        ...Array.from({ length: 20 }, (_, i) => row('DeviceCode', i, { userCode: `code-${i}` })),
        ...Array.from({ length: 2000 }, (_, i) => row('AccessToken', i)),
      ],
    });
    await storage.db.$executeRawUnsafe('ANALYZE');
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

  it('a row without a uid or user code enters neither index, and no index holds the consumption time', async () => {
    const defs = await definitions();
    assert.match(defs.get('oidc_payloads_uid_idx') ?? '', /WHERE \(?"?uid"? IS NOT NULL\)?/i);
    assert.match(defs.get('oidc_payloads_user_code_idx') ?? '', /WHERE \(?"?user_code"? IS NOT NULL\)?/i);
    const consumed = [...defs].filter(([, sql]) => /consumed_at/.test(sql.replace(/WHERE.*$/s, '')));
    assert.deepEqual(consumed, [], 'no index on consumed_at');
  });

  it('the lookups by uid and by user code, as the store prepares them, are answered from their index', async () => {
    const lookups = [
      ['uid', 'oidc_payloads_uid_idx', 'Session'],
      ['user_code', 'oidc_payloads_user_code_idx', 'DeviceCode'],
    ] as const;
    for (const [column, index, type] of lookups) {
      // findByColumn's statements (src/db/artifact-store.ts), with their parameters unbound: the plan must hold for every value.
      let plan: string;
      if (sqlite()) {
        const sql = `EXPLAIN QUERY PLAN SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = ? AND ${column} = ? LIMIT 1`;
        plan = (await storage.db.$queryRawUnsafe<{ detail: string }[]>(sql, type, 'x')).map((r) => r.detail).join('\n');
      } else {
        const name = `lk_plan_${column}`;
        const [, , , rows] = await storage.db.$transaction([
          storage.db.$executeRawUnsafe('SET LOCAL plan_cache_mode = force_generic_plan'),
          storage.db.$executeRawUnsafe('SET LOCAL enable_seqscan = off'),
          storage.db.$executeRawUnsafe(
            `PREPARE ${name}(text, text) AS SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = $1 AND ${column} = $2 LIMIT 1`,
          ),
          storage.db.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN EXECUTE ${name}('${type}', 'x')`),
          storage.db.$executeRawUnsafe(`DEALLOCATE ${name}`),
        ]);
        plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      }
      assert.match(plan, new RegExp(index), `${column}: ${plan}`);
    }
  });
});
