// Server-rendered pages. Every page we render is private to one person and
// one moment: no caching, no framing, and no scripts — except our own
// passkey script (/assets/passkey.js) on the pages that offer a passkey,
// which pass `passkey: true`; never an inline script.
import nunjucks from 'nunjucks';
import type { Context } from 'koa';
import { join } from 'node:path';
import { projectRoot } from '../db/database.ts';

export const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  // No form-action: Chromium applies it to the redirect chain after a form
  // post, which ends at the relying party's redirect_uri.
].join('; ');

export type Render = (ctx: Context, template: string, vars?: Record<string, unknown>, status?: number) => void;

export function createRenderer(): Render {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(join(projectRoot, 'views')), {
    autoescape: true,
    throwOnUndefined: false,
  });
  return (ctx, template, vars = {}, status) => {
    ctx.set('Content-Security-Policy', vars.passkey ? `${PAGE_CSP}; script-src 'self'` : PAGE_CSP);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.type = 'html';
    if (status) ctx.status = status;
    ctx.body = env.render(`${template}.njk`, { product: 'Latchkey', ...vars });
  };
}
