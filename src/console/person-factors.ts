// POST /admin/people/:id/password — a link with which the person chooses a new
//      password, shown once (audited `user.password_link_created`); the
//      administrator never types nor sees the password
// GET  /admin/people/:id/second-factor/reset — what resetting their second factor removes
// POST /admin/people/:id/second-factor/reset — removes their authenticator app,
//      recovery codes and passkeys (audited `user.mfa_reset`)
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backWith, metaOf, renderConsole, type ConsoleDeps } from './context.ts';
import { renderPerson } from './person.ts';

const personPath = (id: string) => `/admin/people/${encodeURIComponent(id)}`;

export function makePasswordLink(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    try {
      const person = await deps.admin.users.get(id);
      const link = await deps.admin.users.passwordLink(actorOf(ctx), id, metaOf(ctx));
      ctx.set('Cache-Control', 'no-store');
      renderConsole(deps, ctx, 'person-link', 'people', { person, link, kind: 'password' });
    } catch (err) {
      // A disabled person: enable them first.
      if (!(err instanceof AppError) || err.code !== 'conflict') throw err;
      ctx.state.errors = [{ message: msg('console.passwordLink.disabled') }];
      await renderPerson(deps, ctx, id, 409);
    }
  };
}

export function confirmResetFactor(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const person = await deps.admin.users.get(String(ctx.params.id));
    renderConfirmation(deps, ctx, {
      section: 'people',
      heading: msg('console.resetFactor.heading', { email: person.email }),
      losses: [msg('console.resetFactor.totp'), msg('console.resetFactor.passkeys'), msg('console.resetFactor.after')],
      button: msg('console.resetFactor.button'),
      action: `${personPath(person.id)}/second-factor/reset`,
      back: personPath(person.id),
    });
  };
}

export function resetFactor(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    await deps.admin.users.resetSecondFactor(actorOf(ctx), id, metaOf(ctx));
    backWith(ctx, personPath(id), 'factor-reset');
  };
}
