// POST /account/verify-email — a new link to confirm the person's address.
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { accountOf, backWith, type AccountDeps } from './context.ts';

export function sendConfirmation({ accountLinks }: AccountDeps) {
  return async (ctx: Context) => {
    await accountLinks.sendVerification(accountOf(ctx), requestMeta(ctx));
    backWith(ctx, 'verification-sent');
  };
}
