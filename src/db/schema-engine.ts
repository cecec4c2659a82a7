// Prisma's schema engine compiled to WebAssembly. The CLI's native engine
// cannot be downloaded on our machines; this one ships in the npm package and
// keeps Prisma's own `_prisma_migrations` bookkeeping, so the result is the
// same as `prisma migrate deploy`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import { mapConnections, overrideAdapter } from './adapter-wrapping.ts';
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

const require = createRequire(import.meta.url);
// WebAssembly's types live in lib.dom, which a server has no use for.
const { WebAssembly: Wasm } = globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Buffer) => object;
    Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
  };
};
let instantiated = false;

// The wasm module must be instantiated once per process.
function loadWasm(): void {
  if (instantiated) return;
  const pkgDir = dirname(require.resolve('@prisma/schema-engine-wasm'));
  const bytes = readFileSync(join(pkgDir, 'schema_engine_bg.wasm'));
  const module = new Wasm.Module(bytes);
  const instance = new Wasm.Instance(module, { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports as never);
  (instance.exports.__wbindgen_start as () => void)();
  instantiated = true;
}

/**
 * Whole migration files reach `executeRaw` when the engine replays them on a
 * shadow database. libsql's executeRaw silently runs only the first statement
 * of such a script, so anything with several statements goes through
 * `executeScript` instead.
 */
function isScript(sql: string): boolean {
  const body = sql.replace(/--.*$/gm, '').trim().replace(/;\s*$/, '');
  return body.includes(';');
}

/**
 * The engine reads a partial index's definition (SQLite) with the index's
 * name in double quotes, a string only where SQLite still accepts that
 * misuse: libsql does not ("no such column"), so describing a database with
 * a partial index failed, and with it every diff (scripts/new-migration.ts).
 * The name goes in single quotes instead.
 */
const INDEX_SQL_BY_NAME = /^(SELECT sql FROM sqlite_master WHERE type = 'index' AND name = )"([^"]*)"(;?)$/;
const singleQuotedIndexName = (sql: string) =>
  sql.replace(INDEX_SQL_BY_NAME, (_, head: string, name: string, end: string) => `${head}'${name.replaceAll("'", "''")}'${end}`);

function libsqlTolerant(adapter: SqlDriverAdapter): SqlDriverAdapter {
  return overrideAdapter(adapter, {
    async executeRaw(query) {
      if (query.args.length === 0 && isScript(query.sql)) {
        await adapter.executeScript(query.sql);
        return 0;
      }
      return adapter.executeRaw(query);
    },
    async queryRaw(query) {
      return adapter.queryRaw(adapter.provider === 'sqlite' ? { ...query, sql: singleQuotedIndexName(query.sql) } : query);
    },
  });
}

export interface EngineHandle {
  engine: bg.SchemaEngine;
  /** The engine never closes its main connection; we do. */
  dispose(): Promise<void>;
}

export async function openSchemaEngine(
  factory: SqlMigrationAwareDriverAdapterFactory,
  schemaPath: string,
  log: (line: string) => void = () => {},
): Promise<EngineHandle> {
  loadWasm();
  const opened: SqlDriverAdapter[] = [];
  const tracked = mapConnections(factory, (adapter) => {
    const a = libsqlTolerant(adapter);
    opened.push(a);
    return a;
  });
  const engine = await bg.SchemaEngine.new(
    { datamodels: [[schemaPath, readFileSync(schemaPath, 'utf8')]] },
    (line: string) => log(line),
    bindMigrationAwareSqlAdapterFactory(tracked),
  );
  return {
    engine,
    async dispose() {
      engine.free();
      await Promise.allSettled(opened.map((a) => a.dispose()));
    },
  };
}
