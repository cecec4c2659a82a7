// Errors from our own routes become a friendly page (or JSON for API
// callers); nothing internal reaches the response. The provider answers its
// own errors (see renderError in src/oidc/configuration.ts).
import type { Context, Next } from 'koa';
import { AppError, InteractionGone } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Render } from './koa-render.ts';
import { loggablePath } from './koa-request-log.ts';

export function errorHandler(log: Logger, render: Render) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      let status = 500;
      let code = 'server_error';
      let message = 'Something went wrong on our side. Please try again.';
      if (err instanceof InteractionGone) {
        status = 400;
        code = 'session_not_found';
        message = 'This sign-in request has expired or was already completed. Go back to the app and start again.';
      } else if (err instanceof AppError) {
        status = err.status;
        code = err.code;
        message = err.message;
      } else {
        log.error({ err, path: loggablePath(ctx.path) }, 'unhandled error');
      }
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = status;
        ctx.body = { error: code, error_description: message };
      } else {
        render(ctx, 'error', { message, code }, status);
      }
    }
  };
}
