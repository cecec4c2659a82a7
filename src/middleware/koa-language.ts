// The language of a page (src/ui/negotiate.ts says in which order it is
// chosen) and GET /language, the switcher every page carries: a link per
// language that remembers the choice in this browser for its session and
// goes back to the page it was on. A link, not a form: it works the same on
// every page, with or without a sign-in, and changes nothing stored (the
// language saved on an account changes on the profile page, or when a
// person signs in after choosing one here).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Ui } from '../ui/ui.ts';
import { chooseLanguage, matchLanguage } from '../ui/negotiate.ts';

export const LANGUAGE_COOKIE = 'lk_lang';

/** What the page's route knows: the app's ui_locales, the person's saved language. */
export interface LanguageHints {
  uiLocales?: readonly string[];
  savedLocale?: string | null;
}

export function hintsOf(ctx: Context): LanguageHints {
  ctx.state.language ??= {};
  return ctx.state.language as LanguageHints;
}

/** The language the person picked with the switcher in this browser, if it is one we have. */
export function chosenLanguage(ui: Ui, ctx: Context): string | undefined {
  const cookie = ctx.cookies.get(LANGUAGE_COOKIE, { signed: false });
  return cookie ? matchLanguage([cookie], ui.catalogue.tags) : undefined;
}

export function languageOf(ui: Ui, ctx: Context): string {
  const hints = hintsOf(ctx);
  return chooseLanguage(
    { chosen: chosenLanguage(ui, ctx), uiLocales: hints.uiLocales, saved: hints.savedLocale, acceptLanguage: ctx.get('accept-language') },
    ui.catalogue.tags,
    ui.defaultLocale,
  );
}

/** A path on this server to go back to (never another host: no `//`, no backslash, no control characters). */
export function safeReturnPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\\\s]*$/.test(value) && value.length <= 2048 ? value : '/';
}

export function languageRoutes(ui: Ui, secureCookies: boolean): Router {
  const router = new Router();
  router.get('/language', (ctx) => {
    const tag = matchLanguage([String(ctx.query.lang ?? '')], ui.catalogue.tags);
    // A browser-session cookie: an app's ui_locales is honoured again in the next one.
    if (tag) ctx.cookies.set(LANGUAGE_COOKIE, tag, { httpOnly: true, sameSite: 'lax', secure: secureCookies, signed: false, path: '/', overwrite: true });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(safeReturnPath(ctx.query.return));
  });
  return router;
}
