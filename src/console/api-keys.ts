// GET /admin/api-keys?owner_id=…&expiring_within_days=…&never_used=true&last_used_before=…&cursor=…
// API keys of every owner, or of one (a person's id or a service account's
// client id), live ones expiring within some days, never used or last used
// before a day: the admin API's own query (ApiKeyQuery) and filter, oldest
// first, a page at a time with its cursors. A day typed in the page's date
// field is taken as its start in UTC, as the page says.
import type { Context } from 'koa';
import { apiKeyFilterOf, ApiKeyQuery } from '../api/list-queries.ts';
import { AppError } from '../errors.ts';
import type { FieldError } from '../middleware/koa-render.ts';
import { msg } from '../ui/catalogue.ts';
import { pageAt, queryOf, renderConsole, type ConsoleDeps } from './context.ts';

const PAGE = 50;
const FIELDS = ['owner_id', 'expiring_within_days', 'never_used', 'last_used_before'] as const;
const DAY = /^\d{4}-\d\d-\d\d$/;
/** Each query field's form field (its id on the page). */
const FIELD_ID: Record<string, string> = {
  owner_id: 'keys-owner',
  expiring_within_days: 'keys-expiring',
  never_used: 'keys-never-used',
  last_used_before: 'keys-last-used-before',
};

export function showApiKeys(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const values = Object.fromEntries(FIELDS.map((f) => [f, queryOf(ctx, f).trim().slice(0, 200)])) as Record<(typeof FIELDS)[number], string>;
    const cursor = queryOf(ctx, 'cursor') || undefined;
    const query: Record<string, string> = {};
    for (const f of FIELDS) if (values[f]) query[f] = f === 'last_used_before' && DAY.test(values[f]) ? `${values[f]}T00:00:00Z` : values[f];
    const parsed = ApiKeyQuery.safeParse(query);
    const errors: FieldError[] = [];
    if (!parsed.success)
      for (const f of new Set(parsed.error.issues.map((i) => String(i.path[0])))) errors.push({ field: FIELD_ID[f], message: msg('console.keys.badFilter') });
    let owner: Awaited<ReturnType<ConsoleDeps['admin']['apiKeys']['ownerFromId']>> | undefined;
    if (parsed.success && values.owner_id) {
      owner = await deps.admin.apiKeys.ownerFromId(values.owner_id).catch((err: unknown) => {
        if (!(err instanceof AppError) || err.code !== 'not_found') throw err;
        errors.push({ field: 'keys-owner', message: msg('console.keys.noOwner') });
        return undefined;
      });
    }
    const filter = parsed.success ? apiKeyFilterOf(parsed.data) : {};
    const at = (c: string | undefined) => deps.admin.apiKeys.page({ owner, ...filter, cursor: c, limit: PAGE });
    const page = errors.length ? { items: [], nextCursor: undefined } : await pageAt(at, cursor, errors);
    ctx.state.errors = errors.length ? errors : undefined;
    const set = Object.fromEntries(Object.entries(values).filter(([, v]) => v));
    const pageQuery = (extra: Record<string, string>) => new URLSearchParams({ ...set, ...extra }).toString();
    const status = !parsed.success ? 400 : values.owner_id && !owner ? 404 : undefined;
    renderConsole(
      deps,
      ctx,
      'api-keys',
      'apiKeys',
      {
        keys: page.items,
        values,
        next: page.nextCursor ? `/admin/api-keys?${pageQuery({ cursor: page.nextCursor })}` : undefined,
        first: cursor ? `/admin/api-keys${Object.keys(set).length ? `?${pageQuery({})}` : ''}` : undefined,
      },
      status,
    );
  };
}
