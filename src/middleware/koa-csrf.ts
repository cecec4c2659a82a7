// Double-submit CSRF protection for our own forms: a random token in an
// HttpOnly cookie (`__Host-` prefixed under TLS, so a sibling subdomain
// cannot plant one) must come back in the form body. Cross-site pages can
// neither read the cookie nor know the token.
import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../services/secrets/constant-time.ts';
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';

export function csrfCookieName(secure: boolean): string {
  return secure ? '__Host-lk_csrf' : 'lk_csrf';
}

export function createCsrf(secure: boolean) {
  const name = csrfCookieName(secure);
  const cookieOpts = { httpOnly: true, sameSite: 'lax' as const, secure, signed: false, path: '/', overwrite: true };

  /** The token to embed in a form; sets the cookie when there is none yet. */
  function token(ctx: Context): string {
    let value = ctx.cookies.get(name, { signed: false });
    if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
      value = randomBytes(32).toString('base64url');
      ctx.cookies.set(name, value, cookieOpts);
    }
    return value;
  }

  /** Middleware for POST routes: refuses a missing or mismatched token. */
  async function verify(ctx: Context, next: Next): Promise<void> {
    const cookie = ctx.cookies.get(name, { signed: false }) ?? '';
    const sent = (ctx.request.body as Record<string, unknown> | undefined)?.csrf;
    const ok = typeof sent === 'string' && cookie.length > 0 && constantTimeEqual(sent, cookie);
    if (!ok) throw new AppError('csrf', 'This form has expired or was sent from another site. Go back, reload the page and try again.');
    await next();
  }

  return { token, verify };
}

export type Csrf = ReturnType<typeof createCsrf>;
