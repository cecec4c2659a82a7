// Errors from our own routes become a friendly page (or JSON for API
// callers); nothing internal reaches the response. The provider answers its
// own errors (see renderError in src/oidc/configuration.ts).
import type { Context, Next } from 'koa';
import { AppError, type AppErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Render } from './koa-render.ts';
import { loggablePath } from './koa-request-log.ts';
import { InteractionGone } from '../oidc/interactions.ts';
import { msg, type Message } from '../ui/catalogue.ts';

/** What a page says for each kind of error (the JSON answer keeps the error's own English message). */
const PAGE_MESSAGES: Record<AppErrorCode, string> = {
  not_found: 'error.notFound',
  conflict: 'error.conflict',
  invalid_input: 'error.invalidInput',
  csrf: 'error.csrf',
};

export function errorHandler(log: Logger, render: Render) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      let status = 500;
      let code = 'server_error';
      let message = 'Something went wrong on our side. Please try again.';
      let page: Message = msg('error.server');
      if (err instanceof InteractionGone) {
        status = 400;
        code = 'session_not_found';
        message = 'This sign-in request has expired or was already completed. Go back to the app and start again.';
        page = msg('error.sessionGone');
      } else if (err instanceof AppError) {
        status = err.status;
        code = err.code;
        message = err.message;
        page = msg(PAGE_MESSAGES[err.code]);
      } else {
        log.error({ err, path: loggablePath(ctx.path) }, 'unhandled error');
      }
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = status;
        ctx.body = { error: code, error_description: message };
      } else {
        render(ctx, 'error', { message: page, code, back: { href: '/', label: msg('common.backToStart') } }, status);
      }
    }
  };
}
