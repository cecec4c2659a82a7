// The JSON API's error boundary: under its prefix every error becomes an
// RFC 9457 problem document carrying the request id; services' AppErrors
// keep their status and message; anything else is logged and answered with
// a generic 500 — never a stack trace or an internal message.
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { PROBLEM_TYPE, Problem, type ProblemStatus } from './problem.ts';

function toProblem(err: unknown): Problem | undefined {
  if (err instanceof Problem) return err;
  if (err instanceof AppError) {
    // csrf cannot happen on the API (no cookies are read); treat it as forbidden anyway.
    return new Problem(err.status as ProblemStatus, err.message);
  }
  return undefined;
}

export function problemHandler(prefix: string, log: Logger) {
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) return next();
    // Answers about credentials and keys are nobody's to cache.
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (err) {
      let p = toProblem(err);
      if (!p) {
        log.error({ err, req_id: ctx.state.requestId, path: ctx.path }, 'unhandled API error');
        p = new Problem(500, 'something went wrong on our side; retry later, and quote the request_id if it persists');
      }
      for (const [name, value] of Object.entries(p.headers)) ctx.set(name, value);
      ctx.status = p.status;
      ctx.type = PROBLEM_TYPE;
      ctx.body = JSON.stringify(p.body(ctx.path, ctx.state.requestId as string | undefined));
    }
  };
}
