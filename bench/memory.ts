// Memory and start-up: many stored sessions and grants, written straight
// into the database in bulk (cloned from a real Session and Grant row the
// scenarios left behind, so the payloads are the ones oidc-provider writes
// through src/oidc/adapter.ts), then a server started on that database.
import { randomBytes, randomUUID } from 'node:crypto';
import Database from 'libsql';
import pg from 'pg';
import { sqliteFile } from '../src/db/database.ts';

interface TemplateRow {
  type: string;
  payload: string;
  uid: string | null;
  account_id: string | null;
  expires_at: unknown;
}

const id = () => randomBytes(32).toString('base64url').slice(0, 43);

/** A new row shaped like `t`: fresh ids, the same claims and structure. */
function clone(t: TemplateRow, grantId: string, accountId: string, now: number): { id: string; payload: string; uid: string | null; expiresAt: Date } {
  const p = JSON.parse(t.payload) as Record<string, unknown>;
  const exp = Math.floor(now / 1000) + 14 * 24 * 3600;
  const rowId = t.type === 'Grant' ? grantId : id();
  const uid = t.type === 'Session' ? id() : null;
  p.jti = rowId;
  p.iat = Math.floor(now / 1000);
  p.exp = exp;
  p.accountId = accountId;
  if (t.type === 'Session') {
    p.uid = uid;
    p.loginTs = p.iat;
    const auths = (p.authorizations ?? {}) as Record<string, Record<string, unknown>>;
    for (const a of Object.values(auths)) {
      a.grantId = grantId;
      a.sid = randomUUID();
    }
  }
  return { id: rowId, payload: JSON.stringify(p), uid, expiresAt: new Date(exp * 1000) };
}

/** How a DateTime is written in this SQLite file (Prisma's driver adapter decides; copy what it did). */
function sqliteDate(sample: unknown): (d: Date) => unknown {
  if (typeof sample === 'number') return (d) => d.getTime();
  if (typeof sample === 'string' && sample.endsWith('+00:00')) return (d) => d.toISOString().replace('Z', '+00:00');
  return (d) => d.toISOString();
}

export async function insertSessionsAndGrants(databaseUrl: string, count: number): Promise<{ inserted: number; seconds: number }> {
  const t0 = performance.now();
  const now = Date.now();
  if (databaseUrl.startsWith('file:')) {
    const db = new Database(sqliteFile(databaseUrl));
    try {
      const pick = (type: string) =>
        db.prepare('SELECT type, payload, uid, account_id, expires_at FROM oidc_payloads WHERE type = ? LIMIT 1').get(type) as TemplateRow | undefined;
      const session = pick('Session');
      const grant = pick('Grant');
      if (!session || !grant) throw new Error('no Session/Grant row to copy: run a code-flow scenario first');
      const toDate = sqliteDate(session.expires_at);
      const insert = db.prepare('INSERT INTO oidc_payloads (type, id, payload, grant_id, uid, expires_at, account_id) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const accounts = (db.prepare('SELECT id FROM users').all() as { id: string }[]).map((r) => r.id);
      db.exec('BEGIN');
      for (let i = 0; i < count; i++) {
        const grantId = id();
        const accountId = accounts[i % accounts.length]!;
        for (const t of [grant, session]) {
          const r = clone(t, grantId, accountId, now);
          insert.run(t.type, r.id, r.payload, null, r.uid, toDate(r.expiresAt), accountId);
        }
      }
      db.exec('COMMIT');
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const pick = async (type: string) =>
        (await client.query<TemplateRow>('SELECT type, payload, uid, account_id, expires_at FROM oidc_payloads WHERE type = $1 LIMIT 1', [type])).rows[0];
      const session = await pick('Session');
      const grant = await pick('Grant');
      if (!session || !grant) throw new Error('no Session/Grant row to copy: run a code-flow scenario first');
      const accounts = (await client.query<{ id: string }>('SELECT id FROM users')).rows.map((r) => r.id);
      const batch = 5000;
      for (let start = 0; start < count; start += batch) {
        const cols: [string[], string[], string[], (string | null)[], string[], string[]] = [[], [], [], [], [], []];
        for (let i = start; i < Math.min(count, start + batch); i++) {
          const grantId = id();
          const accountId = accounts[i % accounts.length]!;
          for (const t of [grant, session]) {
            const r = clone(t, grantId, accountId, now);
            cols[0].push(t.type);
            cols[1].push(r.id);
            cols[2].push(r.payload);
            cols[3].push(r.uid);
            // Prisma keeps UTC in timestamp(3) columns: send UTC wall-clock text.
            cols[4].push(r.expiresAt.toISOString().replace('Z', ''));
            cols[5].push(accountId);
          }
        }
        await client.query(
          `INSERT INTO oidc_payloads (type, id, payload, uid, expires_at, account_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamp(3)[], $6::text[])`,
          cols,
        );
      }
      await client.query('ANALYZE oidc_payloads');
    } finally {
      await client.end();
    }
  }
  return { inserted: count * 2, seconds: (performance.now() - t0) / 1000 };
}
