// Runs before oidc-provider on POST /token. It parses the form body itself
// (with our size limit; the provider then uses the parsed body) so that a
// jwt-bearer request carrying nothing but `grant_type` and `assertion` — as
// RFC 7523 §2.1 allows and integrators send — reaches the grant with the
// assertion's issuer as its client. An assertion we cannot even read is
// answered here with the reason.
import type { Context, Next } from 'koa';
import { readUrlEncoded } from '../middleware/koa-body.ts';
import { JWT_BEARER } from '../services/service-accounts.ts';
import { withAssertionAuthentication } from './grants/assertion-auth.ts';
import { readUnverified } from './grants/assertion-claims.ts';

export const TOKEN_BODY_LIMIT = 64 * 1024;

function refuse(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

export function tokenPreparser(tokenPath: string) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath || !ctx.is('application/x-www-form-urlencoded')) return next();

    const params = await readUrlEncoded(ctx, TOKEN_BODY_LIMIT);
    if (!params) return refuse(ctx, 413, 'invalid_request', `request body exceeds ${TOKEN_BODY_LIMIT / 1024} KiB`);
    const body: Record<string, string | string[]> = {};
    for (const [k, v] of params) {
      const prev = body[k];
      // Repeated parameters stay visible as arrays so the provider can refuse them.
      body[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
    }
    ctx.request.body = body;

    const authenticated = ctx.get('authorization') || body.client_secret || body.client_assertion;
    if (body.grant_type !== JWT_BEARER || authenticated) return next();

    const read = readUnverified(body.assertion);
    if (!read.ok) {
      return refuse(ctx, 400, body.assertion ? 'invalid_grant' : 'invalid_request', read.description);
    }
    if (body.client_id !== undefined && body.client_id !== read.issuer) {
      return refuse(ctx, 400, 'invalid_request', `client_id '${String(body.client_id)}' does not match the assertion's issuer '${read.issuer}'`);
    }
    body.client_id = read.issuer;
    return withAssertionAuthentication(read.issuer, next);
  };
}
