// The one place an AppError (src/errors.ts) becomes an OAuth error answer.
// Inside oidc-provider (our grants, its resource-indicator hooks) it leaves
// as the provider's own CustomOIDCProviderError, which the provider answers
// as OAuth JSON (400, `error` and `error_description`) at the token
// endpoint, or as a redirect carrying them at the authorization endpoint,
// and reports to its `grant.error` listeners (metrics, token audit). In
// front of the provider (src/oidc/token-preparser.ts) it is written here
// the same way. Any other error passes unchanged: the provider answers it as
// a server_error and nothing internal leaks.
import type { Context } from 'koa';
import { errors } from 'oidc-provider';
import { AppError, type OAuthErrorCode, isOAuthErrorCode } from '../errors.ts';

/** A refusal: the OAuth error code, and what the caller should fix (no secret). */
export const refuse = (error: OAuthErrorCode, description: string) => new AppError(error, description);

export function toProviderError(err: unknown): unknown {
  return err instanceof AppError && isOAuthErrorCode(err.code) ? new errors.CustomOIDCProviderError(err.code, err.message) : err;
}

/** `fn`, run by oidc-provider (a grant handler, a hook), with its refusals in the provider's terms. */
export function answeredByProvider<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw toProviderError(err);
    }
  };
}

/** A refusal answered before the request reaches the provider, as the provider would answer it. */
export function answerOAuthError(ctx: Context, err: AppError): void {
  ctx.status = err.status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: err.code, error_description: err.message };
}
