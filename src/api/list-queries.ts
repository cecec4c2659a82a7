// What the JSON API (/api/v1), the admin API and the console read alike:
// paging, the API-key and audit list filters, and the fields of a new API
// key. Apart from the admin API's other shapes (src/api/admin/schemas.ts),
// which load with that API at its first request (src/app.ts).
import * as z from 'zod';
import type { AuditFilter } from '../services/admin/audit.ts';
import { EXPIRY_HINT, EXPIRY_SYNTAX } from '../config/durations.ts';
import { SCOPE_VALUE, SCOPE_VALUE_MESSAGE } from '../services/apis/scope-names.ts';

export const timestamp = z.iso.datetime({ offset: true });
/** A scope value (src/services/apis/scope-names.ts): space-separated scope tokens. */
export const scope = z.string().min(1).max(2000).regex(SCOPE_VALUE, SCOPE_VALUE_MESSAGE);
/** An expiry (src/config/durations.ts): a duration from now or a date. */
const expiry = z.string().regex(EXPIRY_SYNTAX, `must be ${EXPIRY_HINT}`);

// ---- paging ----------------------------------------------------------------

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional().describe('page size, 1–200 (default 50)'),
  cursor: z.string().min(1).max(500).optional().describe('next_cursor of the previous page'),
});

/** A page of a list as the API answers it. */
export const pageBody = <T, V>(page: { items: T[]; nextCursor?: string }, view: (item: T) => V) => ({
  status: 200,
  body: { items: page.items.map(view), ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) },
});

export const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item),
      next_cursor: z.string().optional().describe('present when there are more: pass it as `cursor`'),
    })
    .meta({ id });

// ---- API keys -----------------------------------------------------------------
// (The key itself is ApiKey in src/api/views.ts, beside its view.)

/** What a new key is made of, in both JSON APIs (the admin API adds its owner). */
export const apiKeyFields = {
  name: z.string().trim().min(1, 'must not be empty').max(100),
  description: z.string().max(500).optional(),
  scope,
  resource: z.url().optional().describe('bind the key to this API (its resource identifier)'),
  expires: expiry.optional(),
  allowed_ips: z.array(z.string().min(1)).max(20).optional().describe('CIDR ranges, IPv4 or IPv6'),
};

// ---- list filters ----------------------------------------------------------

export const AuditQuery = PageQuery.extend({
  user_id: z.string().min(1).max(200).optional(),
  client_id: z.string().min(1).max(200).optional(),
  type: z.string().min(1).max(100).optional().describe("an event type, or a prefix ending in '.' (e.g. client.)"),
  since: timestamp.optional().describe('from this time (inclusive)'),
  until: timestamp.optional().describe('before this time'),
});

/** The API keys list's filters (the admin API and the console read the same query). */
export const ApiKeyQuery = PageQuery.extend({
  owner_id: z.string().min(1).max(200).optional().describe("only this owner's keys (a user id or a service account client id)"),
  expiring_within_days: z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .optional()
    .describe('only live keys (not revoked, owner enabled) that expire between now and this many days from now'),
  never_used: z.enum(['true', 'false']).optional().describe('true: only keys never used'),
  last_used_before: timestamp
    .optional()
    .describe('only keys last used before this time (last use is kept to about a minute; never-used keys are not included)'),
});

/** An API keys query's filter as the key service takes it, the owner aside (resolved from owner_id by the caller). */
export const apiKeyFilterOf = (q: z.output<typeof ApiKeyQuery>) => ({
  expiringWithinDays: q.expiring_within_days,
  neverUsed: q.never_used === 'true' ? true : undefined,
  lastUsedBefore: q.last_used_before ? new Date(q.last_used_before) : undefined,
});

/** An audit query's filter as the audit service takes it (the admin API and the console read the same query). */
export const auditFilterOf = (q: z.output<typeof AuditQuery>): AuditFilter => ({
  type: q.type,
  userId: q.user_id,
  clientId: q.client_id,
  since: q.since ? new Date(q.since) : undefined,
  until: q.until ? new Date(q.until) : undefined,
});
