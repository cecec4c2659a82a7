// Lists are read in pages with an opaque cursor: the sort key of the last
// row seen, sealed in base64url JSON. Keyset pagination (WHERE key > cursor),
// not OFFSET, so a page costs the same at row one million as at row one and
// rows inserted meanwhile are neither skipped nor repeated.
import { invalidInput } from '../../errors.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export interface PageRequest {
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Absent on the last page. */
  nextCursor?: string;
}

/** The position after a row: its timestamp and id (ties broken by id). */
export interface Position {
  at: Date;
  id: string;
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.at.getTime(), p.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof ms === 'number' && Number.isFinite(ms) && typeof id === 'string') return { at: new Date(ms), id };
  } catch {
    // fall through
  }
  throw invalidInput('cursor is not one this server handed out; start again without it');
}

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidInput(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return limit;
}

/**
 * Prisma `where` for rows after `cursor` in the order (field, id), ascending
 * or descending; plus how many rows to read (one extra tells whether there is
 * a next page).
 */
export function keyset(field: string, req: PageRequest, direction: 'asc' | 'desc' = 'asc') {
  const take = pageLimit(req.limit) + 1;
  const op = direction === 'asc' ? 'gt' : 'lt';
  const after = req.cursor ? decodeCursor(req.cursor) : undefined;
  const where = after ? { OR: [{ [field]: { [op]: after.at } }, { [field]: after.at, id: { [op]: after.id } }] } : {};
  const orderBy = [{ [field]: direction }, { id: direction }];
  return { where, orderBy, take };
}

/** Cuts the extra row off and makes the cursor from the last one kept. */
export function toPage<R, T>(rows: R[], take: number, position: (row: R) => Position, map: (row: R) => T): Page<T> {
  const more = rows.length === take;
  const kept = more ? rows.slice(0, take - 1) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), ...(more && last ? { nextCursor: encodeCursor(position(last)) } : {}) };
}
