// The cryptographic and storage floor, measured in-process: what one
// request's unavoidable work costs on this machine, sequentially, one core.
// A scenario's CPU per request can be read against it (a refresh signs one
// ID token; a jwt-bearer request verifies one ES256 assertion and signs one
// RS256 access token; a login is one bcrypt compare).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import { compactVerify, generateKeyPair, SignJWT } from 'jose';
import Database from 'libsql';
import { PrismaLibSql } from '@prisma/adapter-libsql';

export interface FloorRow {
  name: string;
  ops: number;
  usPerOp: number;
  opsPerS: number;
}

async function measure(name: string, minMs: number, minOps: number, op: () => unknown | Promise<unknown>): Promise<FloorRow> {
  for (let i = 0; i < Math.min(20, minOps); i++) await op(); // warm-up (JIT, key caches)
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let elapsedMs = 0;
  while (ops < minOps || elapsedMs < minMs) {
    await op();
    ops++;
    elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return { name, ops, usPerOp: (elapsedMs * 1000) / ops, opsPerS: (ops * 1000) / elapsedMs };
}

const CREATE = 'CREATE TABLE t (type TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, expires_at INTEGER, PRIMARY KEY (type, id))';
const PAYLOAD = JSON.stringify({ iat: 1, exp: 2, accountId: randomUUID(), clientId: randomBytes(16).toString('base64url'), scope: 'openid email profile' });

export async function cryptoFloor(bcryptCost: number, quick: boolean): Promise<FloorRow[]> {
  const ms = quick ? 300 : 1000;
  const rows: FloorRow[] = [];
  const claims = { iss: 'https://issuer.bench.test', sub: randomUUID(), aud: 'client', iat: 1, exp: 2, nonce: randomUUID(), email: 'a@b.test' };

  const rsa = await generateKeyPair('RS256', { modulusLength: 2048 });
  const ec = await generateKeyPair('ES256');
  rows.push(await measure('sign JWT RS256 (jose SignJWT)', ms, 50, () => new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey)));
  rows.push(await measure('sign JWT ES256 (jose SignJWT)', ms, 50, () => new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey)));
  const assertion = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey);
  rows.push(await measure('verify ES256 assertion (jose compactVerify)', ms, 50, () => compactVerify(assertion, ec.publicKey)));

  const hash = await bcrypt.hash('correct horse battery staple', bcryptCost);
  rows.push(
    await measure(`bcrypt compare, cost ${bcryptCost} (async API)`, quick ? 500 : 2000, quick ? 2 : 6, () =>
      bcrypt.compare('correct horse battery staple', hash),
    ),
  );

  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-floor-'));
  try {
    const db = new Database(join(dir, 'floor.db'));
    db.exec('PRAGMA journal_mode=WAL');
    db.exec('PRAGMA synchronous=NORMAL');
    db.exec(CREATE);
    const insert = db.prepare('INSERT INTO t (type, id, payload, expires_at) VALUES (?, ?, ?, ?)');
    rows.push(
      await measure('SQLite insert (libsql prepared, WAL, synchronous=NORMAL)', ms, 200, () => insert.run('AccessToken', randomUUID(), PAYLOAD, Date.now())),
    );
    db.close();

    // Through Prisma's driver adapter, the layer Latchkey's queries pass through.
    const factory = new PrismaLibSql({ url: `file:${join(dir, 'adapter.db')}` });
    const adapter = await factory.connect();
    await adapter.executeScript(`PRAGMA journal_mode=WAL; ${CREATE};`);
    await adapter.executeRaw({ sql: 'PRAGMA synchronous=NORMAL', args: [], argTypes: [] });
    const argTypes = [
      { scalarType: 'string', arity: 'scalar' },
      { scalarType: 'string', arity: 'scalar' },
      { scalarType: 'string', arity: 'scalar' },
      { scalarType: 'bigint', arity: 'scalar' },
    ] as unknown as Parameters<typeof adapter.executeRaw>[0]['argTypes'];
    rows.push(
      await measure('SQLite insert (@prisma/adapter-libsql executeRaw, WAL, NORMAL)', ms, 200, () =>
        adapter.executeRaw({
          sql: 'INSERT INTO t (type, id, payload, expires_at) VALUES (?, ?, ?, ?)',
          args: ['AccessToken', randomUUID(), PAYLOAD, Date.now()],
          argTypes,
        }),
      ),
    );
    await adapter.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/**
 * One insert (its own commit) through node-postgres into the bench's
 * PostgreSQL (when it runs): into an ordinary table, so that with `durable`
 * each commit waits for its WAL flush as the server's do (a temporary table
 * writes no WAL at all).
 */
export async function postgresInsertFloor(url: string, quick: boolean, durable = true): Promise<FloorRow> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const table = `floor_${randomUUID().replaceAll('-', '')}`;
  try {
    await client.query(`CREATE TABLE ${table} (type TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, expires_at BIGINT, PRIMARY KEY (type, id))`);
    const q = { name: 'floor-insert', text: `INSERT INTO ${table} (type, id, payload, expires_at) VALUES ($1, $2, $3, $4)` };
    const label = durable
      ? 'PostgreSQL insert (node-postgres prepared, one commit each; fsync and synchronous_commit on)'
      : 'PostgreSQL insert (node-postgres prepared; fsync=off, --unsafe-pg)';
    return await measure(label, quick ? 300 : 1000, 200, () => client.query({ ...q, values: ['AccessToken', randomUUID(), PAYLOAD, Date.now()] }));
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await client.end();
  }
}
