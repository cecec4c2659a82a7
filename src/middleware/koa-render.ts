// Server-rendered pages. Every page we render is private to one person and
// one moment: no caching, no framing, and no scripts — except our own
// passkey script (/assets/passkey.js) on the pages that offer a passkey,
// which pass `passkey: true`; never an inline script. The policy is the
// server's: a theme's templates cannot loosen it.
//
// Each page gets, besides its own variables: `t(key, params)` (the message
// in the page's language, escaped), `lang` and `dir`, `brand`, the language
// switcher's links, `formatDate`/`formatDateTime`/`formatNumber` (Intl), and
// its errors as a summary plus one message per field (`errors`, `fieldError`).
import { randomBytes } from 'node:crypto';
import nunjucks from 'nunjucks';
import type { Context } from 'koa';
import type { Message } from '../ui/catalogue.ts';
import { formatDate, formatDateTime, formatNumber } from '../ui/format.ts';
import type { Ui } from '../ui/ui.ts';
import { hintsOf, languageOf, safeReturnPath } from './koa-language.ts';

const PAGE_CSP = (imageOrigins: readonly string[]) =>
  [
    "default-src 'none'",
    "style-src 'self'",
    ['img-src', "'self'", 'data:', ...imageOrigins].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    // No form-action: Chromium applies it to the redirect chain after a form
    // post, which ends at the relying party's redirect_uri.
  ].join('; ');

/** A problem with what was sent: tied to one field (its input's id), or to the form as a whole. */
export interface FieldError {
  field?: string;
  message: Message;
}

export interface PageVars extends Record<string, unknown> {
  errors?: FieldError[];
  /** Where the language switcher goes back to after a post (a GET page showing the same thing). */
  returnTo?: string;
  /** Origins of images on this page besides our own (an app's logo). */
  imageOrigins?: string[];
  passkey?: boolean;
  /**
   * A page answered in floods (a rate limit's refusal) whose variables hold
   * nothing of one person or request: rendered once per template, language
   * and variables, and reused with each request's own return path filled in.
   */
  reuse?: boolean;
}

export type Render = (ctx: Context, template: string, vars?: PageVars, status?: number) => void;

/** The page to go back to after switching language on a page a POST rendered. */
function returnPathAfterPost(ctx: Context): string {
  const interaction = /^\/interaction\/([A-Za-z0-9_-]+)\//.exec(ctx.path);
  if (interaction) return `/interaction/${interaction[1]}`;
  return '/';
}

/**
 * At most this many pages are kept for reuse (about 1.5 KB each); cleared when
 * full. A refusal's wait in seconds is one of its variables: four languages
 * and a budget's window of up to 900 s can outnumber it, and then pages are
 * rendered again as they were before reuse.
 */
const REUSED_PAGES = 1_000;

// What the templates print a value with: reused pages fill their return path in the same way.
const escapeHtml = (nunjucks as unknown as { lib: { escape(text: string): string } }).lib.escape;

export function createRenderer(ui: Ui): Render {
  const { catalogue } = ui;
  // What is the same on every page, made once: a page costs its own parts only.
  const switcher = catalogue.languages.map((l) => ({ ...l, link: `/language?lang=${encodeURIComponent(l.tag)}&return=` }));
  const pageCsp = PAGE_CSP(ui.imageOrigins);
  const passkeyCsp = `${pageCsp}; script-src 'self'`;
  // A reused page is rendered with this in place of its return path: hex, so escaping leaves it as it is.
  const hole = `return-path-${randomBytes(12).toString('hex')}`;
  // false: a page a theme prints the return path into otherwise than as given (`| upper`…): rendered anew each time.
  const reused = new Map<string, string | false>();
  const fill = (kept: string, encodedBack: string) => kept.replaceAll(hole, escapeHtml(encodedBack));

  function page(template: string, vars: PageVars, lang: string, encodedBack: string): string {
    const t = (key: string, params?: Message['params']) => new nunjucks.runtime.SafeString(catalogue.html(lang, key, params));
    const tm = (m: Message | undefined) => (m ? t(m.key, m.params) : '');
    const errors = (vars.errors ?? []).map((e) => ({ field: e.field, html: tm(e.message) }));
    const byField = new Map(errors.filter((e) => e.field).map((e) => [e.field!, e.html]));
    return ui.pages.render(`${template}.njk`, {
      ...vars,
      lang,
      dir: catalogue.language(lang).dir,
      t,
      tm,
      brand: ui.brand,
      themeCss: ui.themeCss,
      errors,
      fieldError: (id: string) => byField.get(id),
      languages: switcher.map(({ link, ...l }) => ({ ...l, current: l.tag === lang, href: link + encodedBack })),
      formatDate: (d: Date) => formatDate(lang, d),
      formatDateTime: (d: Date) => formatDateTime(lang, d),
      formatNumber: (n: number) => formatNumber(lang, n),
    });
  }

  /**
   * The page kept for the template, language and variables, with
   * `encodedBack` filled in. The first is kept if filling it in gives the
   * page rendered anew.
   */
  function reusedPage(template: string, vars: PageVars, lang: string, encodedBack: string): string {
    const key = `${template}\n${lang}\n${JSON.stringify(vars)}`;
    const kept = reused.get(key);
    if (kept === false) return page(template, vars, lang, encodedBack);
    if (kept !== undefined) return fill(kept, encodedBack);
    const withHole = page(template, vars, lang, hole);
    const fresh = page(template, vars, lang, encodedBack);
    if (reused.size >= REUSED_PAGES) reused.clear();
    reused.set(key, fill(withHole, encodedBack) === fresh && withHole);
    return fresh;
  }

  return (ctx, template, vars = {}, status) => {
    const lang = languageOf(ui, ctx);
    const encodedBack = encodeURIComponent(safeReturnPath(vars.returnTo ?? (ctx.method === 'GET' ? ctx.originalUrl : returnPathAfterPost(ctx))));
    const csp = vars.imageOrigins?.length ? PAGE_CSP([...ui.imageOrigins, ...vars.imageOrigins]) : pageCsp;
    ctx.set('Content-Security-Policy', vars.passkey ? (csp === pageCsp ? passkeyCsp : `${csp}; script-src 'self'`) : csp);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.set('Content-Language', lang);
    ctx.type = 'html';
    if (status) ctx.status = status;
    ctx.body = vars.reuse ? reusedPage(template, vars, lang, encodedBack) : page(template, vars, lang, encodedBack);
  };
}

export { hintsOf };
