// What a failed statement means, read once here rather than through casts in
// every service: Prisma answers a unique constraint violation with P2002 on
// both databases (its driver adapters map SQLite's and PostgreSQL's own codes).

/** Another row already holds this unique value (an insert lost a race, or a name is taken). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}
