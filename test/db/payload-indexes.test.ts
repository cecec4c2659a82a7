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
import { applyMigrations } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/server.ts';

describe('the indexes of oidc_payloads', () => {
  let dir: string;
  let database: TestDatabase;
  let storage: Storage;
  const sqlite = () => databaseKind(database.url) === 'sqlite';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-indexes-'));
    database = await createTestDatabase(dir);
    await applyMigrations(database.url);
    storage = await openStorage(database.url);
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

  it('the lookups by uid and by user code are still answered from their index', async () => {
    const lookups = [
      ['uid', 'oidc_payloads_uid_idx'],
      ['user_code', 'oidc_payloads_user_code_idx'],
    ] as const;
    for (const [column, index] of lookups) {
      // The statements of src/db/artifact-store.ts (findByColumn).
      const sql = `SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE type = 'Session' AND ${column} = 'x' LIMIT 1`;
      let plan: string;
      if (sqlite()) {
        plan = (await storage.db.$queryRawUnsafe<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${sql}`)).map((r) => r.detail).join('\n');
      } else {
        // An empty table is read whole whenever it may be: the question is whether the index can answer at all.
        const [, rows] = await storage.db.$transaction([
          storage.db.$executeRawUnsafe('SET LOCAL enable_seqscan = off'),
          storage.db.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql}`),
        ]);
        plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      }
      assert.match(plan, new RegExp(index), `${column}: ${plan}`);
    }
  });
});
