// Who is asking, for code that runs deep inside a request without its
// context: the storage adapter records a sign-in session's browser and
// address each time the session is saved (the account's Sessions page).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Next } from 'koa';

export interface RequestOrigin {
  ip?: string;
  userAgent?: string;
}

const scope = new AsyncLocalStorage<RequestOrigin>();

export function requestScope() {
  return (ctx: Context, next: Next) => scope.run({ ip: ctx.ip || undefined, userAgent: ctx.get('user-agent') || undefined }, next);
}

export const currentRequest = (): RequestOrigin | undefined => scope.getStore();
