// Many rows in one INSERT, for the imports: Prisma's createMany compiles each
// batch through its WebAssembly query compiler, which cost about 1 ms of CPU
// per imported person (measured with --cpu-prof, bench/import.ts); a plain
// multi-row INSERT with bound parameters costs a tenth of that. Values are
// written as Prisma writes them, so that Prisma reads them back unchanged:
// on SQLite a DateTime is text `2026-12-04T16:30:00.000+00:00` and a Boolean
// 0 or 1; on PostgreSQL a timestamp(3) without time zone holding UTC.
import type { DbKind } from './database.ts';

interface RawExecutor {
  $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number>;
}

/** SQLite's default limit of bound parameters is 32,766; PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function sqliteValue(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString().replace('Z', '+00:00');
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/**
 * Inserts `rows` (each a value per column of `columns`, database names) into
 * `table` in as few statements as the parameter limit allows.
 */
export async function bulkInsert(
  tx: RawExecutor,
  kind: DbKind,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  if (!rows.length) return;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  const head = `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES `;
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      if (row.length !== columns.length) throw new Error(`bulkInsert ${table}: ${row.length} values for ${columns.length} columns`);
      const marks = row.map((v) => {
        values.push(kind === 'sqlite' ? sqliteValue(v) : v instanceof Date ? v.toISOString() : v);
        // PostgreSQL infers each parameter's type from its column; a timestamp is sent as ISO text, cast.
        return kind === 'sqlite' ? '?' : v instanceof Date ? `$${values.length}::timestamptz AT TIME ZONE 'UTC'` : `$${values.length}`;
      });
      return `(${marks.join(', ')})`;
    });
    await tx.$executeRawUnsafe(head + tuples.join(', '), ...values);
  }
}
