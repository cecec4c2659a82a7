// What a failed statement means, read once here rather than through casts in
// every service: Prisma answers a unique constraint violation with P2002 on
// both databases (its driver adapters map SQLite's and PostgreSQL's own codes).

/** Another row already holds this unique value (an insert lost a race, or a name is taken). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}

/**
 * A failed statement, for a log line: Prisma's code and the message's last
 * line (the database's own words: "database is locked", "deadlock
 * detected"). Not the whole message: its first lines quote the call with
 * its arguments.
 */
export function describeDbError(err: unknown): { name: string; code?: string; message: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  const last = e.message.trim().split('\n').filter(Boolean).at(-1) ?? '';
  return { name: e.name, ...(typeof code === 'string' ? { code } : {}), message: last.slice(0, 300) };
}
