// GET  /verify-email?token=… — the link from a sign-up or confirmation mail:
// a page with a button (mail scanners that fetch links must not use them
// up); for a sign-up, the page where the person chooses their name and
// password, as an invitation's does
// POST /verify-email — uses the link: the account is created, or the address
// marked confirmed. Works in any browser; the one the sign-in started in is
// offered to go back to it.
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import type { FieldError } from '../middleware/koa-render.ts';
import { msg } from '../ui/catalogue.ts';
import { continueUrl, field, linkProblem, linkStatus, renderLinkRefused, type InteractionDeps } from './context.ts';

function renderConfirm(
  deps: InteractionDeps,
  ctx: Context,
  token: string,
  target: { purpose: 'signup' | 'verify'; email: string; name: string },
  errors?: FieldError[],
) {
  deps.render(
    ctx,
    'confirm-email',
    {
      token,
      email: target.email,
      name: target.name,
      signup: target.purpose === 'signup',
      csrf: deps.csrf.token(ctx),
      errors,
      returnTo: `/verify-email?token=${encodeURIComponent(token)}`,
    },
    errors ? 400 : 200,
  );
}

export function showVerifyEmail(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const token = String(ctx.query.token ?? '');
    const found = await deps.accountLinks.peekConfirmation(token);
    if (!found.ok) return renderLinkRefused(deps, ctx, found.reason);
    renderConfirm(deps, ctx, token, found);
  };
}

export function submitVerifyEmail(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const token = field(ctx, 'token');
    const name = field(ctx, 'name').trim();
    const password = field(ctx, 'password');
    // The form again with what was typed (except the passwords), or why the link cannot be used.
    const again = async (errors: FieldError[]) => {
      const found = await deps.accountLinks.peekConfirmation(token);
      if (!found.ok) return renderLinkRefused(deps, ctx, found.reason);
      renderConfirm(deps, ctx, token, { ...found, name }, errors);
    };
    if (password !== field(ctx, 'confirm')) return again([{ field: 'confirm', message: msg('common.passwordsDiffer') }]);
    const outcome = await deps.accountLinks.confirmEmail(token, { name, password, locale: deps.chosenLanguage(ctx) }, requestMeta(ctx));
    if (!outcome.ok) {
      if ('field' in outcome) return again([{ field: outcome.field, message: outcome.message }]);
      return deps.render(
        ctx,
        'link-done',
        { heading: msg('linkDone.refused'), problem: linkProblem(outcome.reason), next: '/account', nextLabel: msg('common.signIn'), returnTo: '/' },
        linkStatus(outcome.reason),
      );
    }
    deps.render(ctx, 'link-done', {
      heading: msg(outcome.created ? 'linkDone.accountReady' : 'linkDone.confirmed'),
      message: msg(outcome.created ? 'linkDone.createdLead' : 'linkDone.confirmedLead', { email: outcome.email }),
      next: await continueUrl(deps, ctx, 'confirmed'),
      nextLabel: msg('linkDone.continue'),
      returnTo: '/',
    });
  };
}
