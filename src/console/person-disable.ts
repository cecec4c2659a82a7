// GET  /admin/people/:id/disable — what disabling them ends, and the button
// POST /admin/people/:id/disable — disables them: every session, grant and
//      stored token ends and their API keys are revoked, on every node
//      (src/services/people/users.ts, setDisabled); audited `user.updated`
// POST /admin/people/:id/enable — lets them sign in again (their keys stay revoked)
// An administrator cannot disable themself here: it would end the very session
// they act in, and could lock out the last person able to enable them again.
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backWith, consoleOf, metaOf, type ConsoleDeps } from './context.ts';
import { renderPerson } from './person.ts';

const personPath = (id: string) => `/admin/people/${encodeURIComponent(id)}`;

/** Refuses, on the person's page, an administrator's disabling of themself; true when refused. */
async function refusedOwnDisable(deps: ConsoleDeps, ctx: Context, id: string): Promise<boolean> {
  if (id !== consoleOf(ctx).user.id) return false;
  ctx.state.errors = [{ message: msg('console.person.ownDisable') }];
  await renderPerson(deps, ctx, id, 409);
  return true;
}

export function confirmDisable(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    if (await refusedOwnDisable(deps, ctx, String(ctx.params.id))) return;
    const person = await deps.admin.users.get(String(ctx.params.id));
    const sessions = (await deps.admin.users.listSessions(person.id)).length;
    renderConfirmation(deps, ctx, {
      section: 'people',
      heading: msg('console.disable.heading', { email: person.email }),
      losses: [msg('console.disable.sessions', { count: sessions }), msg('console.disable.tokens'), msg('console.disable.keys'), msg('console.disable.signIn')],
      button: msg('console.disable.button', { email: person.email }),
      action: `${personPath(person.id)}/disable`,
      back: personPath(person.id),
    });
  };
}

function setDisabled(deps: ConsoleDeps, disabled: boolean) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    if (disabled && (await refusedOwnDisable(deps, ctx, id))) return;
    await deps.admin.users.update(actorOf(ctx), id, { disabled }, undefined, metaOf(ctx));
    backWith(ctx, personPath(id), disabled ? 'disabled' : 'enabled');
  };
}

export const disablePerson = (deps: ConsoleDeps) => setDisabled(deps, true);
export const enablePerson = (deps: ConsoleDeps) => setDisabled(deps, false);
