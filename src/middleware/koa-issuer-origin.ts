// Every request is served for the configured ISSUER only. oidc-provider
// builds its endpoint URLs (discovery, redirects, the audiences it accepts
// for client assertions) from the request's own scheme and host, so a request
// addressed to another name would make this server speak as that name: an
// assertion a client sent to another authorization server could be replayed
// here, and discovery would advertise an attacker's endpoints. Such requests
// are refused before anything else sees them. Behind TRUST_PROXY the scheme
// and host are the ones the proxy reports (X-Forwarded-Proto / -Host).
import type { Context, Next } from 'koa';
import { msg } from '../ui/catalogue.ts';
import type { Render } from './koa-render.ts';

/** Load balancers and orchestrators probe these by address, not by name. */
const ANY_HOST = new Set(['/healthz', '/readyz']);

/**
 * A host as a Host header (or X-Forwarded-Host) may name one: a name or an
 * IPv4 address, or an IPv6 literal, and a port. The URL parser reads past
 * anything else (`issuer/evil`, `issuer\evil`, `issuer?evil` all parse to
 * the issuer's origin), while Koa and the provider would use it as given.
 * (User info, `evil@issuer`, Koa itself takes off.)
 */
const HOST = /^(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

function originOf(ctx: Context): string | undefined {
  const host = ctx.host;
  if (!HOST.test(host)) return undefined;
  try {
    return new URL(`${ctx.protocol}://${host}`).origin;
  } catch {
    return undefined;
  }
}

export function issuerOrigin(issuer: string, render: Render) {
  const expected = new URL(issuer).origin;
  return async (ctx: Context, next: Next) => {
    // An absolute-form target (`GET http://other/… HTTP/1.1`) is what Koa builds
    // ctx.href from, and so the provider its URLs: only origin-form is served.
    const originForm = ctx.originalUrl.startsWith('/');
    // The scheme and host exactly as the issuer spells them (nearly every
    // request) need no URL parse; any other spelling (case, a default port)
    // is compared as an origin.
    if (originForm && (`${ctx.protocol}://${ctx.host}` === expected || ANY_HOST.has(ctx.path) || originOf(ctx) === expected)) return next();
    // A browser gets a page; everything else (protocol endpoints, scripts) gets OAuth JSON.
    if (ctx.method === 'GET' && ctx.get('accept').includes('text/html')) {
      return render(
        ctx,
        'error',
        { message: msg('error.wrongHost', { origin: expected }), code: 'wrong_host', back: { href: `${expected}/`, label: msg('common.backToStart') } },
        400,
      );
    }
    ctx.status = 400;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'invalid_request', error_description: `requests must be addressed to ${expected} (the issuer)` };
  };
}
