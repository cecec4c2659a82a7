// HTTP latency by route. The route label is the matched pattern (ours) or
// the provider's endpoint name, never the raw path, so it stays bounded.
import type { Context, Next } from 'koa';
import type { Metrics } from '../metrics.ts';
import { constantTimeEqual } from '../services/secrets/constant-time.ts';

export function httpMetrics(metrics: Metrics) {
  return async (ctx: Context, next: Next) => {
    const end = metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? (ctx as { oidc?: { route?: string } }).oidc?.route ?? 'unmatched';
      end({ method: ctx.method, route: String(route), status: String(ctx.status) });
    }
  };
}

/** True when no token is required, or the request carries it (compared in constant time). */
export function bearerMatches(ctx: Context, token: string | undefined): boolean {
  if (!token) return true;
  return constantTimeEqual(ctx.get('authorization'), `Bearer ${token}`);
}

/** GET /metrics, optionally behind a bearer token. */
export function metricsEndpoint(metrics: Metrics, token: string | undefined) {
  return async (ctx: Context) => {
    if (!bearerMatches(ctx, token)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'unauthorized', error_description: 'metrics require the METRICS_TOKEN bearer token' };
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
}
