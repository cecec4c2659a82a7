// Headers for every response, the provider's included.
import type { Context, Next } from 'koa';

export function securityHeaders(opts: { hsts: boolean }) {
  return async (ctx: Context, next: Next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    if (opts.hsts) ctx.set('Strict-Transport-Security', 'max-age=31536000');
    await next();
  };
}
