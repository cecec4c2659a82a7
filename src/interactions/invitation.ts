// GET  /invitation?token=… — an operator's invitation (admin user invite):
// the person chooses their name and password
// POST /invitation — creates the account, its address confirmed.
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { field, renderLinkRefused, type InteractionDeps } from './context.ts';

const linkRefused = (deps: InteractionDeps, ctx: Context, reason: string) => renderLinkRefused(deps, ctx, reason, 'This invitation cannot be used');

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
    const again = async (error: string) => {
      const invitation = await deps.accountLinks.peekInvitation(token);
      if (!invitation.ok) return linkRefused(deps, ctx, invitation.reason);
      deps.render(ctx, 'invitation', { token, email: invitation.email, name, csrf: deps.csrf.token(ctx), error }, 400);
    };
    if (password !== field(ctx, 'confirm')) return again('The passwords do not match.');
    const outcome = await deps.accountLinks.acceptInvitation(token, { name, password }, requestMeta(ctx));
    if (!outcome.ok) return 'field' in outcome ? again(outcome.message) : linkRefused(deps, ctx, outcome.reason);
    deps.render(ctx, 'link-done', {
      heading: 'Your account is ready',
      message: `Welcome${name ? `, ${name}` : ''}. Sign in as ${outcome.email} with the password you chose.`,
      next: '/account',
      nextLabel: 'Sign in',
    });
  };
}
