// GET /admin/api-keys?owner_id=…&cursor=… — API keys of every owner, or of one
// (a person's id or a service account's client id, as the admin API's
// owner_id), oldest first, a page at a time with the admin API's cursors.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { msg } from '../ui/catalogue.ts';
import { queryOf, renderConsole, type ConsoleDeps } from './context.ts';

const PAGE = 50;

export function showApiKeys(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const ownerId = queryOf(ctx, 'owner_id').trim().slice(0, 200);
    const cursor = queryOf(ctx, 'cursor') || undefined;
    let owner: Awaited<ReturnType<ConsoleDeps['admin']['apiKeys']['ownerFromId']>> | undefined;
    if (ownerId) {
      owner = await deps.admin.apiKeys.ownerFromId(ownerId).catch((err: unknown) => {
        if (!(err instanceof AppError) || err.code !== 'not_found') throw err;
        ctx.state.errors = [{ field: 'keys-owner', message: msg('console.keys.noOwner') }];
        return undefined;
      });
    }
    const at = (c: string | undefined) => deps.admin.apiKeys.page({ owner, cursor: c, limit: PAGE });
    const page =
      ownerId && !owner
        ? { items: [], nextCursor: undefined }
        : await at(cursor).catch((err: unknown) => {
            if (!(err instanceof AppError)) throw err;
            ctx.state.errors = [{ message: msg('console.badCursor') }];
            return at(undefined);
          });
    const query = (extra: Record<string, string>) => new URLSearchParams({ ...(ownerId ? { owner_id: ownerId } : {}), ...extra }).toString();
    renderConsole(
      deps,
      ctx,
      'api-keys',
      'apiKeys',
      {
        keys: page.items,
        ownerId,
        next: page.nextCursor ? `/admin/api-keys?${query({ cursor: page.nextCursor })}` : undefined,
        first: cursor ? `/admin/api-keys${ownerId ? `?${query({})}` : ''}` : undefined,
      },
      ownerId && !owner ? 404 : undefined,
    );
  };
}
