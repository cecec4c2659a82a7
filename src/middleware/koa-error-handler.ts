// Errors from our own routes become a friendly page (or JSON for API
// callers): the one place an AppError (src/errors.ts) becomes a page.
// Nothing internal reaches the response. The provider answers its own
// errors (see renderError in src/oidc/configuration.ts).
import type { Context, Next } from 'koa';
import { AppError, type AppErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Render } from './koa-render.ts';
import { loggablePath } from './koa-request-log.ts';
import { msg } from '../ui/catalogue.ts';

const SERVER_ERROR = { status: 500, code: 'server_error', message: 'Something went wrong on our side. Please try again.' };

/**
 * What a page says for each kind of refusal, in the person's language (the
 * JSON answer keeps the error's own English message); any other refusal
 * says the request could not be completed.
 */
const PAGE_MESSAGES: Partial<Record<AppErrorCode, string>> = {
  not_found: 'error.notFound',
  conflict: 'error.conflict',
  invalid_input: 'error.invalidInput',
  csrf: 'error.csrf',
  session_not_found: 'error.sessionGone',
};

export function errorHandler(log: Logger, render: Render) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof AppError)) log.error({ err, path: loggablePath(ctx.path) }, 'unhandled error');
      const { status, code, message } = err instanceof AppError ? err : SERVER_ERROR;
      const page = msg(err instanceof AppError ? (PAGE_MESSAGES[err.code] ?? 'error.requestFailed') : 'error.server');
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = status;
        ctx.body = { error: code, error_description: message };
      } else {
        render(ctx, 'error', { message: page, code, back: { href: '/', label: msg('common.backToStart') } }, status);
      }
    }
  };
}
