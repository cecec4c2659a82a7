// GET  /admin/people/new — two forms: create an account, or invite someone
// POST /admin/people — creates the account without a password (audited
//      `user.created`) and shows, once, the link with which its person chooses one
// POST /admin/people/invite — an invitation link (audited `invitation_created`),
//      mailed when asked, and shown once
// The administrator never types nor sees a password: the person chooses it.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import type { FieldError } from '../middleware/koa-render.ts';
import { msg } from '../ui/catalogue.ts';
import { actorOf, metaOf, renderConsole, type ConsoleDeps } from './context.ts';

interface NewPersonValues {
  email: string;
  name: string;
  send: boolean;
}

const EMPTY: NewPersonValues = { email: '', name: '', send: true };

function valuesOf(ctx: Context): NewPersonValues {
  const body = ctx.request.body as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.trim().slice(0, 320) : '');
  return { email: text(body.email), name: text(body.name), send: body.send === 'on' };
}

/** A refusal of the service (a bad address or name, an address taken, invitations off) beside its form. */
function refusal(err: unknown, form: 'create' | 'invite'): { errors: FieldError[]; status: number } {
  if (!(err instanceof AppError) || (err.code !== 'invalid_input' && err.code !== 'conflict')) throw err;
  return { errors: [{ field: `${form}-email`, message: msg('console.newPerson.refused', { reason: err.message }) }], status: err.status };
}

export function showNewPerson(deps: ConsoleDeps) {
  return async (ctx: Context) => renderConsole(deps, ctx, 'person-new', 'people', { create: EMPTY, invite: EMPTY });
}

export function createPerson(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const values = valuesOf(ctx);
    let person;
    try {
      person = await deps.admin.users.create(actorOf(ctx), { email: values.email, name: values.name || undefined }, metaOf(ctx));
    } catch (err) {
      const { errors, status } = refusal(err, 'create');
      ctx.state.errors = errors;
      return renderConsole(deps, ctx, 'person-new', 'people', { create: values, invite: EMPTY, returnTo: '/admin/people/new' }, status);
    }
    const link = await deps.admin.users.passwordLink(actorOf(ctx), person.id, metaOf(ctx));
    ctx.set('Cache-Control', 'no-store');
    renderConsole(deps, ctx, 'person-link', 'people', { person, link, kind: 'created' });
  };
}

export function invitePerson(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const values = valuesOf(ctx);
    try {
      const link = await deps.admin.users.invite(actorOf(ctx), { email: values.email, name: values.name || undefined }, values.send, metaOf(ctx));
      ctx.set('Cache-Control', 'no-store');
      renderConsole(deps, ctx, 'person-link', 'people', { link, kind: values.send ? 'invited-mailed' : 'invited' });
    } catch (err) {
      const { errors, status } = refusal(err, 'invite');
      ctx.state.errors = errors;
      renderConsole(deps, ctx, 'person-new', 'people', { create: EMPTY, invite: values, returnTo: '/admin/people/new' }, status);
    }
  };
}
