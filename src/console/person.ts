// GET /admin/people/:id — one person: profile and state, roles, where they are
// signed in, the apps they allowed, their API keys; each with the actions an administrator may take.
import type { Context } from 'koa';
import { describeUserAgent } from '../ui/user-agent.ts';
import { renderConsole, type ConsoleDeps } from './context.ts';

export function showPerson(deps: ConsoleDeps) {
  return (ctx: Context) => renderPerson(deps, ctx, String(ctx.params.id));
}

/** The person's page (again after a failed post, with its errors and this status). */
export async function renderPerson(deps: ConsoleDeps, ctx: Context, id: string, status?: number) {
  {
    const person = await deps.admin.users.get(id);
    const [roles, sessions, apps, keys] = await Promise.all([
      deps.admin.users.roles(id),
      deps.admin.users.listSessions(id),
      deps.admin.users.listApps(id),
      deps.admin.apiKeys.page({ owner: { userId: id }, limit: 50 }),
    ]);
    renderConsole(
      deps,
      ctx,
      'person',
      'people',
      {
        person,
        roles,
        sessions: sessions
          .map((s) => ({ ref: s.id, ...(describeUserAgent(s.userAgent) ?? {}), address: s.ip, signedInAt: s.signedInAt, lastUsedAt: s.lastUsedAt }))
          .sort((a, b) => (b.lastUsedAt?.getTime() ?? 0) - (a.lastUsedAt?.getTime() ?? 0)),
        apps,
        apiKeys: keys.items.filter((k) => !k.revokedAt),
        moreKeys: Boolean(keys.nextCursor),
        self: `/admin/people/${encodeURIComponent(id)}`,
      },
      status,
    );
  }
}
