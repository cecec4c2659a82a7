// Errors from our own routes become a friendly page (or JSON for API
// callers): the one place an AppError (src/errors.ts) becomes a page.
// Nothing internal reaches the response. The provider answers its own
// errors (see renderError in src/oidc/configuration.ts).
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Render } from './koa-render.ts';
import { loggablePath } from './koa-request-log.ts';

const SERVER_ERROR = { status: 500, code: 'server_error', message: 'Something went wrong on our side. Please try again.' };

export function errorHandler(log: Logger, render: Render) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof AppError)) log.error({ err, path: loggablePath(ctx.path) }, 'unhandled error');
      const { status, code, message } = err instanceof AppError ? err : SERVER_ERROR;
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = status;
        ctx.body = { error: code, error_description: message };
      } else {
        render(ctx, 'error', { message, code }, status);
      }
    }
  };
}
