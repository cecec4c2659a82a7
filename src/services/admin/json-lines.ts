// JSON Lines (one JSON value a line) read from a stream as it arrives, for the
// imports: memory stays flat whatever the file's size. Each line is checked
// on its own — valid UTF-8, at most `maxLineBytes`, valid JSON — and a bad
// one is reported with its number and what is wrong, never its content (it
// may hold a password hash or a secret), while the lines around it are read
// on. Blank lines are skipped (they keep their numbers); a UTF-8 byte-order
// mark and Windows line ends are tolerated.

/** One line: its value, or what is wrong with it. Numbered from 1. */
export type JsonLine = { line: number; value: unknown; error?: undefined } | { line: number; error: string; value?: undefined };

/** Longer lines are refused (a person, an app or a key fits in far less). */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

function parseLine(bytes: Buffer, line: number): JsonLine | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { line, error: 'is not valid UTF-8 text; save the file as UTF-8' };
  }
  if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (!text.trim()) return undefined;
  try {
    return { line, value: JSON.parse(text) };
  } catch (err) {
    // V8's message quotes the text it could not read: say where, not what.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    return { line, error: `is not valid JSON${at !== undefined ? ` (at character ${Number(at) + 1})` : ''}; each line must be one JSON object` };
  }
}

/** Splits `source` into JSON lines without holding more than one line (up to `maxLineBytes`) at a time. */
export async function* readJsonLines(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<JsonLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let line = 1;
  // Bytes of the current line beyond the limit: counted, not kept.
  let overflow = 0;
  const finish = function* (): Generator<JsonLine> {
    if (overflow) yield { line, error: `is ${size + overflow} bytes long, over the ${maxLineBytes / 1024} KiB a line may have; it was not read` };
    else {
      const parsed = parseLine(parts.length === 1 ? parts[0]! : Buffer.concat(parts), line);
      if (parsed) yield parsed;
    }
    parts = [];
    size = 0;
    overflow = 0;
    line++;
  };
  for await (const chunk of source) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (buf.length) {
      const nl = buf.indexOf(NEWLINE);
      const piece = nl === -1 ? buf : buf.subarray(0, nl);
      if (overflow || size + piece.length > maxLineBytes) overflow += piece.length;
      else if (piece.length) {
        // Copied: the caller's chunk may be reused.
        parts.push(Buffer.from(piece));
        size += piece.length;
      }
      if (nl === -1) break;
      yield* finish();
      buf = buf.subarray(nl + 1);
    }
  }
  if (size || overflow) yield* finish();
}

/** Groups an async sequence into arrays of at most `size`. */
export async function* batches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** What an import answers: counts, and each line it could not take (the first MAX_REPORTED_ERRORS). */
export interface ImportReport {
  dry_run: boolean;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  errors: LineError[];
  /** True when more lines failed than `errors` lists. */
  errors_truncated: boolean;
}

export interface LineError {
  line: number;
  /** The field at fault, dotted (`totp.secret`), or "" for the whole line. */
  field: string;
  message: string;
}

export const MAX_REPORTED_ERRORS = 1000;

export type OnConflict = 'skip' | 'update' | 'fail';
export const ON_CONFLICT: readonly OnConflict[] = ['skip', 'update', 'fail'];

export function newReport(dryRun: boolean): ImportReport {
  return { dry_run: dryRun, created: 0, updated: 0, skipped: 0, failed: 0, errors: [], errors_truncated: false };
}

export function reportFailure(report: ImportReport, error: LineError): void {
  report.failed++;
  if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push(error);
  else report.errors_truncated = true;
}

/** `line 812: password_hash: unknown format "$sha1$…"` */
export const describeLineError = (e: LineError) => `line ${e.line}: ${e.field ? `${e.field}: ` : ''}${e.message}`;

/** A line's field problems from zod issues: names and reasons, never the values. */
export function issuesOf(
  issues: readonly { path: readonly PropertyKey[]; message: string; code: string; keys?: readonly string[] }[],
): { field: string; message: string }[] {
  return issues.flatMap((i) =>
    i.code === 'unrecognized_keys' && i.keys
      ? i.keys.map((k) => ({ field: [...i.path, k].map(String).join('.'), message: 'is not a known field' }))
      : [{ field: i.path.map(String).join('.'), message: i.message }],
  );
}

/**
 * An import's line checked against its schema: its value, or undefined when
 * the line is unreadable or invalid (then already in `report`, with the first
 * field at fault). `what` completes "is not …" for a line that is no object.
 */
export function checkedLine<T>(
  item: JsonLine,
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: Parameters<typeof issuesOf>[0] } } },
  report: ImportReport,
  what: string,
): T | undefined {
  if (item.error !== undefined) {
    reportFailure(report, { line: item.line, field: '', message: item.error });
    return undefined;
  }
  const parsed = schema.safeParse(item.value);
  if (parsed.success) return parsed.data;
  const [first] = issuesOf(parsed.error.issues);
  reportFailure(report, { line: item.line, field: first?.field ?? '', message: first?.message ?? `is not ${what}` });
  return undefined;
}
