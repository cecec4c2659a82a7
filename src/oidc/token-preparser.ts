// Runs before oidc-provider on POST /token, on the body parsed by
// protocolFormBody (src/middleware/koa-body.ts), so that a jwt-bearer request
// carrying nothing but `grant_type` and `assertion` — as RFC 7523 §2.1 allows
// and integrators send — reaches the grant with the assertion's issuer as its
// client. An assertion we cannot even read is answered here with the reason.
import type { Context, Next } from 'koa';
import { JWT_BEARER } from '../services/machines/service-accounts.ts';
import { markAssertionAuthenticated } from './grants/assertion-auth.ts';
import { readUnverified } from './grants/assertion-claims.ts';
import { API_KEY_CLIENT_ID } from './grants/token-exchange.ts';
import { isKeyExchangeWithoutClient } from './claimed-caller.ts';
import { currentRequest } from './provider-request.ts';
import { answerOAuthError, refuse } from './oauth-errors.ts';
import type { OAuthErrorCode } from '../errors.ts';

export function tokenPreparser(tokenPath: string, onRefused?: (ctx: Context, error: string, description: string) => void) {
  const answer = (ctx: Context, error: OAuthErrorCode, description: string) => {
    answerOAuthError(ctx, refuse(error, description));
    onRefused?.(ctx, error, description);
  };
  return async (ctx: Context, next: Next) => {
    const body = ctx.request.body as Record<string, string | string[]> | undefined;
    if (ctx.method !== 'POST' || ctx.path !== tokenPath || !body) return next();

    // RFC 8693 with an API key: the key authenticates; the exchange runs as the built-in key client.
    if (isKeyExchangeWithoutClient(body, ctx.get('authorization'))) {
      if (body.client_id !== undefined && body.client_id !== API_KEY_CLIENT_ID) {
        return answer(ctx, 'invalid_request', 'a key exchange needs no client_id: the API key (subject_token) is the credential');
      }
      body.client_id = API_KEY_CLIENT_ID;
      return next();
    }
    const authenticated = ctx.get('authorization') || body.client_secret || body.client_assertion;
    if (authenticated) return next();
    if (body.grant_type !== JWT_BEARER) return next();

    const read = readUnverified(body.assertion);
    if (!read.ok) {
      return answer(ctx, body.assertion ? 'invalid_grant' : 'invalid_request', read.description);
    }
    if (body.client_id !== undefined && body.client_id !== read.issuer) {
      return answer(ctx, 'invalid_request', `client_id '${String(body.client_id)}' does not match the assertion's issuer '${read.issuer}'`);
    }
    body.client_id = read.issuer;
    // Outside a served request (an app without src/oidc/provider-request.ts's middleware) nothing is marked: the client is then refused.
    const served = currentRequest();
    if (served) markAssertionAuthenticated(served, read.issuer);
    return next();
  };
}
