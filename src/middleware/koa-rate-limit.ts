// Per-client-IP rate limits, counted in the shared database through
// rate-limiter-flexible's Prisma store, so that every node enforces the same
// budget. Every limited response carries the IETF draft fields
// RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset (and
// RateLimit-Policy); a refusal is 429 with Retry-After.
import type { Context, Next } from 'koa';
import { RateLimiterPrisma, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimit, RateLimitName } from '../config/env.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { Render } from './koa-render.ts';

export interface RateLimiters {
  /** For pages: a refusal is a friendly HTML page. */
  page(name: RateLimitName): (ctx: Context, next: Next) => Promise<void>;
  /** For protocol endpoints: a refusal is a JSON error. */
  api(name: RateLimitName): (ctx: Context, next: Next) => Promise<void>;
}

export function createRateLimiters(db: Db, limits: Readonly<Record<RateLimitName, RateLimit | undefined>>, log: Logger, render: Render): RateLimiters {
  const limiters = new Map<RateLimitName, { limiter: RateLimiterPrisma; limit: RateLimit }>();
  for (const [name, limit] of Object.entries(limits) as [RateLimitName, RateLimit | undefined][]) {
    if (!limit) continue;
    limiters.set(name, {
      limit,
      limiter: new RateLimiterPrisma({
        storeClient: db,
        tableName: 'rateLimit',
        keyPrefix: `ip:${name}`,
        points: limit.points,
        duration: limit.seconds,
        // Expired counters are deleted by the server's sweep, not a timer per limiter.
        clearExpiredByTimeout: false,
      }),
    });
  }

  function headers(ctx: Context, limit: RateLimit, res: RateLimiterRes): number {
    const reset = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    ctx.set('RateLimit-Limit', String(limit.points));
    ctx.set('RateLimit-Remaining', String(Math.max(0, res.remainingPoints)));
    ctx.set('RateLimit-Reset', String(reset));
    ctx.set('RateLimit-Policy', `${limit.points};w=${limit.seconds}`);
    return reset;
  }

  function middleware(name: RateLimitName, kind: 'page' | 'api') {
    return async (ctx: Context, next: Next) => {
      const entry = limiters.get(name);
      if (!entry) return next();
      let res: RateLimiterRes;
      try {
        res = await entry.limiter.consume(ctx.ip || 'unknown');
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) {
          // The counter store failing must not take sign-in down with it.
          log.warn({ err, limiter: name }, 'rate limiter unavailable; request allowed');
          return next();
        }
        const retry = headers(ctx, entry.limit, err);
        ctx.set('Retry-After', String(retry));
        const description = `too many requests from this address: at most ${entry.limit.points} per ${entry.limit.seconds} s; retry in ${retry} s`;
        if (kind === 'api') {
          ctx.status = 429;
          ctx.set('Cache-Control', 'no-store');
          ctx.body = { error: 'too_many_requests', error_description: description };
        } else {
          render(ctx, 'error', { heading: 'Too many attempts', message: `Too many attempts from your network. Wait ${retry} seconds and try again.`, code: 'too_many_requests' }, 429);
        }
        return;
      }
      headers(ctx, entry.limit, res);
      await next();
    };
  }

  return { page: (name) => middleware(name, 'page'), api: (name) => middleware(name, 'api') };
}
