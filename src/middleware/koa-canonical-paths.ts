// oidc-provider finds an endpoint whatever the case of its path's ASCII
// letters and with one trailing slash (its router folds both): POST /Token/
// is its token endpoint. The middleware in front of it compared paths
// exactly, so such a request reached the token endpoint with its body
// unparsed by us: a client named only in the body (client_secret_post, an
// assertion) was counted by its address alone, out of its own quota and
// failure budget, and an API key sent to /token/Introspection was not
// looked up. Such a spelling is rewritten to the path it stands for before
// any of them reads it; the provider answers it the same either way.
import type { Context, Next } from 'koa';

/** Lower case for ASCII letters only, as the provider's router folds (a non-ASCII letter is never folded into one). */
const foldAscii = (path: string) => path.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Rewrites another spelling of one of `paths` (all lower case, no trailing slash) to that path. */
export function canonicalPaths(paths: readonly string[]) {
  const canonical = new Map(paths.map((p) => [foldAscii(p), p]));
  return (ctx: Context, next: Next) => {
    const path = ctx.path;
    if (!canonical.has(path)) {
      const to = canonical.get(foldAscii(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path));
      if (to !== undefined) ctx.path = to;
    }
    return next();
  };
}
