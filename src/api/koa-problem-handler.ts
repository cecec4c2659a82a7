// The JSON API's error boundary: under its prefix every error becomes an
// RFC 9457 problem document carrying the request id (src/api/problem.ts);
// AppErrors, the routes' and the services' alike, keep their status and
// message; anything else is logged and answered with a generic 500 — never
// a stack trace or an internal message.
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { PROBLEM_TYPE, problemBody } from './problem.ts';

export function problemHandler(prefix: string, log: Logger) {
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) return next();
    // Answers about credentials and keys are nobody's to cache.
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (err) {
      if (!(err instanceof AppError)) log.error({ err, req_id: ctx.state.requestId, path: ctx.path }, 'unhandled API error');
      const { status, headers, body } = problemBody(err instanceof AppError ? err : undefined, ctx.path, ctx.state.requestId as string | undefined);
      for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
      ctx.status = status;
      ctx.type = PROBLEM_TYPE;
      ctx.body = JSON.stringify(body);
    }
  };
}
