// One line for an error nobody anticipated, naming its cause. Prisma's
// messages start with a newline and the call site ("\nInvalid `db.x.update()`
// invocation in\n/path…"), with the cause on the last line and the driver's
// own words in `meta.driverAdapterError.cause`: printing the first line
// printed nothing ("unexpected error: ").
interface DriverCause {
  originalMessage?: string;
  originalCode?: string;
  kind?: string;
  message?: string;
}

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `unexpected error: ${String(err)}`;
  const e = err as Error & { code?: unknown; meta?: { driverAdapterError?: { cause?: DriverCause } }; cause?: unknown };
  const lines = (e.message ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const driver = e.meta?.driverAdapterError?.cause;
  const driverWords = driver?.originalMessage ?? driver?.message;
  const last = lines.at(-1);
  const parts = [driverWords ?? last ?? (e.cause instanceof Error ? e.cause.message : undefined) ?? e.name];
  if (driverWords && last && !last.includes(driverWords)) parts.push(`(${last})`);
  const code = typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : undefined;
  if (driver || (code && /^P\d{4}$/.test(code))) return `database error${code ? ` ${code}` : ''}: ${parts.join(' ')}`;
  return `unexpected error${code ? ` (${code})` : ''}: ${parts.join(' ')}`;
}
