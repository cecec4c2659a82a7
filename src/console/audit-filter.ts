// The audit pages' filters, read from the query string with the admin API's
// own schema (AuditQuery): the same names, the same rules. A time typed in
// the page's date-and-time field (no zone) is taken as UTC, as the page says.
import type { Context } from 'koa';
import { auditFilterOf, AuditQuery } from '../api/list-queries.ts';
import type { FieldError } from '../middleware/koa-render.ts';
import type { AuditFilter } from '../services/admin/audit.ts';
import { msg } from '../ui/catalogue.ts';

export const FILTER_FIELDS = ['type', 'user_id', 'client_id', 'since', 'until'] as const;
export type FilterValues = Record<(typeof FILTER_FIELDS)[number], string>;

const LOCAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/;

export function auditFilter(ctx: Context): { values: FilterValues; filter: AuditFilter; cursor?: string; errors: FieldError[] } {
  const raw = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string).trim() : '');
  const values = Object.fromEntries(FILTER_FIELDS.map((f) => [f, raw(f)])) as FilterValues;
  const query: Record<string, string> = {};
  for (const f of FILTER_FIELDS)
    if (values[f])
      query[f] = (f === 'since' || f === 'until') && LOCAL_TIME.test(values[f]) ? `${values[f].length === 16 ? `${values[f]}:00` : values[f]}Z` : values[f];
  if (raw('cursor')) query.cursor = raw('cursor');
  const parsed = AuditQuery.safeParse(query);
  if (!parsed.success) {
    const bad = new Set(parsed.error.issues.map((i) => String(i.path[0])));
    const errors = [...bad].map((f) => ({ field: `audit-${f.replace('_', '-')}`, message: msg('console.audit.badFilter') }));
    return { values, filter: {}, errors };
  }
  const q = parsed.data;
  return {
    values,
    filter: auditFilterOf(q),
    cursor: q.cursor,
    errors: [],
  };
}

/** The filters as a query string (for the next page and the exports). */
export const filterQuery = (values: FilterValues, extra: Record<string, string> = {}) =>
  new URLSearchParams({ ...Object.fromEntries(Object.entries(values).filter(([, v]) => v)), ...extra }).toString();
