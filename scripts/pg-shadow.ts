// PostgreSQL driver-adapter factory for creating migrations (dev only).
// Works around two gaps of @prisma/adapter-pg on the schema engine's shadow
// path: it cannot read the catalog type "char" (OID 18), which the engine
// selects while diffing, so we report it as text; and its own shadow
// database handling reconnects to the main database when given a
// connection string, so we make the shadow database ourselves.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { overrideAdapter } from '../src/db/adapter-wrapping.ts';

const CHAR_OID = 18;
const TEXT_OID = 25;

function charAsTextPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 2 });
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<pg.QueryResult>;
  (pool as unknown as { query: unknown }).query = async (...args: unknown[]) => {
    const result = await query(...args);
    for (const field of result.fields ?? []) if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    return result;
  };
  return pool;
}

export function pgMigrationFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const main = new PrismaPg(charAsTextPool(url), { disposeExternalPool: true });
  return {
    provider: 'postgres',
    adapterName: main.adapterName,
    connect: () => main.connect(),
    async connectToShadowDb(): Promise<SqlDriverAdapter> {
      const name = `latchkey_shadow_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      const shadowUrl = new URL(url);
      shadowUrl.pathname = `/${name}`;
      const shadow = await new PrismaPg(charAsTextPool(shadowUrl.href), { disposeExternalPool: true }).connect();
      return overrideAdapter(shadow, {
        async dispose() {
          await shadow.dispose();
          // FORCE: a connection the engine left open would otherwise keep it, one more database at every diff (the tests make one each run).
          try {
            await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          } finally {
            await admin.end();
          }
        },
      });
    },
  };
}
