// POST /admin/people/:id/sessions/:session/end — signs that browser out
// GET  /admin/people/:id/sessions/end — what ending every session means, and the button
// POST /admin/people/:id/sessions/end — signs them out everywhere
// Both audited `user.sessions_ended` by the administration service.
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backWith, metaOf, type ConsoleDeps } from './context.ts';

const personPath = (id: string) => `/admin/people/${encodeURIComponent(id)}`;

export function endSession(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    await deps.admin.users.endSession(actorOf(ctx), id, String(ctx.params.session), metaOf(ctx));
    backWith(ctx, personPath(id), 'session-ended');
  };
}

export function confirmEndSessions(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const person = await deps.admin.users.get(String(ctx.params.id));
    const sessions = (await deps.admin.users.listSessions(person.id)).length;
    renderConfirmation(deps, ctx, {
      section: 'people',
      heading: msg('console.endSessions.heading', { email: person.email }),
      losses: [msg('console.disable.sessions', { count: sessions }), msg('console.endSessions.apps')],
      button: msg('console.endSessions.button'),
      action: `${personPath(person.id)}/sessions/end`,
      back: personPath(person.id),
    });
  };
}

export function endSessions(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    await deps.admin.users.endAllSessions(actorOf(ctx), id, metaOf(ctx));
    backWith(ctx, personPath(id), 'sessions-ended');
  };
}
