// One log line per request. The path only: query strings carry codes,
// states and tokens; and a sign-in's interaction id (the value of its
// cookie) is replaced by its pattern.
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { flatLineLogger, type Logger } from '../logger.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export const loggablePath = (path: string) => path.replace(/^\/(interaction|auth)\/[^/]+/, '/$1/:uid');

export function requestLog(log: Logger) {
  const lines = flatLineLogger(log);
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    const offered = ctx.get('X-Request-ID');
    const id = REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-ID', id);
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      lines.info({ req_id: id, method: ctx.method, path: loggablePath(ctx.path), status: ctx.status, ms: Math.round(ms * 10) / 10 }, 'request');
    }
  };
}
