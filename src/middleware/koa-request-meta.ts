// Where a request came from, as services record it (audit trail, lockout).
// ctx.ip already honours TRUST_PROXY (see app.proxy and app.maxIpsCount).
import type { Context } from 'koa';
import type { RequestMeta } from '../services/admin/audit.ts';

export function requestMeta(ctx: Context, clientId?: string): RequestMeta {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, ...(clientId ? { clientId } : {}) };
}
