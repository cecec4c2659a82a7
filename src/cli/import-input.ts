// What the import commands share: JSON Lines from a file or stdin (`-`),
// streamed, and the report they print.
import { createReadStream, statSync } from 'node:fs';
import { AppError } from '../errors.ts';
import { describeLineError, ON_CONFLICT, readJsonLines, type ImportReport, type JsonLine, type OnConflict } from '../services/admin/json-lines.ts';
import { printResult, UsageError } from './output.ts';

/** The file's lines (stdin for `-`). The file is checked now, before anything is opened. */
export function jsonLinesFrom(file: string | undefined, usage: string): AsyncIterable<JsonLine> {
  if (!file) throw new UsageError(`usage: ${usage}`);
  if (file === '-') return readJsonLines(process.stdin);
  try {
    if (!statSync(file).isFile()) throw new UsageError(`--file ${file} is not a file`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return readJsonLines(createReadStream(file));
}

export function onConflictOf(value: string | undefined): OnConflict {
  if (value === undefined) return 'fail';
  if (!(ON_CONFLICT as readonly string[]).includes(value)) throw new UsageError(`--on-conflict must be ${ON_CONFLICT.join(', ')} (got "${value}")`);
  return value as OnConflict;
}

/** Prints the report; lines that failed make the command fail too (exit 1), after the report. */
export function printImport(json: boolean, what: string, report: ImportReport): void {
  printResult(json, { ...report }, () =>
    [
      `${report.dry_run ? 'dry run (nothing written): ' : ''}${what}: ${report.created} created, ${report.updated} updated, ${report.skipped} ` +
        `skipped, ${report.failed} failed`,
      ...report.errors.map(describeLineError),
      ...(report.errors_truncated ? [`… and ${report.failed - report.errors.length} more failed lines`] : []),
    ].join('\n'),
  );
  if (report.failed)
    throw new AppError(
      'invalid_input',
      `${report.failed} line${report.failed === 1 ? '' : 's'} could not be imported (listed in the report); the others were${report.dry_run ? ' checked' : ''}`,
    );
}
