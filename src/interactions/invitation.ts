// GET  /invitation?token=… — an operator's invitation (admin user invite):
// the person chooses their name and password
// POST /invitation — creates the account, its address confirmed.
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { msg, type Message } from '../ui/catalogue.ts';
import { field, fieldError, renderLinkRefused, type InteractionDeps } from './context.ts';

const linkRefused = (deps: InteractionDeps, ctx: Context, reason: string) => renderLinkRefused(deps, ctx, reason, msg('invitation.refused'));

export function showInvitation(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const token = String(ctx.query.token ?? '');
    const invitation = await deps.accountLinks.peekInvitation(token);
    if (!invitation.ok) return linkRefused(deps, ctx, invitation.reason);
    deps.render(ctx, 'invitation', { token, email: invitation.email, name: invitation.name, csrf: deps.csrf.token(ctx) });
  };
}

export function submitInvitation(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const token = field(ctx, 'token');
    const name = field(ctx, 'name').trim();
    const password = field(ctx, 'password');
    const again = async (field: string, error: Message) => {
      const invitation = await deps.accountLinks.peekInvitation(token);
      if (!invitation.ok) return linkRefused(deps, ctx, invitation.reason);
      deps.render(
        ctx,
        'invitation',
        {
          token,
          email: invitation.email,
          name,
          csrf: deps.csrf.token(ctx),
          errors: fieldError(field, error),
          returnTo: `/invitation?token=${encodeURIComponent(token)}`,
        },
        400,
      );
    };
    if (password !== field(ctx, 'confirm')) return again('confirm', msg('common.passwordsDiffer'));
    const outcome = await deps.accountLinks.acceptInvitation(token, { name, password, locale: deps.languageOf(ctx) }, requestMeta(ctx));
    if (!outcome.ok) return 'field' in outcome ? again(outcome.field, outcome.message) : linkRefused(deps, ctx, outcome.reason);
    deps.render(ctx, 'link-done', {
      heading: msg('linkDone.accountReady'),
      message: name ? msg('linkDone.welcomeName', { name, email: outcome.email }) : msg('linkDone.welcome', { email: outcome.email }),
      next: '/account',
      nextLabel: msg('common.signIn'),
    });
  };
}
