// Everything pages and mail are made of, loaded once at start-up: the
// message catalogue, the templates (built-in, or the theme's), the assets,
// and the brand (name, logo, colours, links).
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import nunjucks from 'nunjucks';
import type { BrandColors } from '../config/brand-colors.ts';
import type { Config } from '../config/env.ts';
import { projectRoot } from '../project-root.ts';
import { CatalogueError, loadCatalogue, type Catalogue } from './catalogue.ts';
import { checkThemeTemplates, loadAssets, ThemeError, templateLoaders, type Asset } from './theme.ts';

/** The folder of the built-in templates, assets and languages. */
export const VIEWS_DIR = join(projectRoot, 'views');

/**
 * A theme, a language file or DEFAULT_LOCALE that cannot be used; its message
 * names the variable. The composition root reports it as a configuration error.
 */
export class UiSettingsError extends Error {
  override name = 'UiSettingsError';
}

export interface Brand {
  name: string;
  /** The logo's address on pages (/assets/… or the operator's https URL). */
  logoSrc: string | undefined;
  supportUrl: string | undefined;
  privacyUrl: string | undefined;
  termsUrl: string | undefined;
}

export interface Ui {
  catalogue: Catalogue;
  defaultLocale: string;
  brand: Brand;
  /** Origins images may come from besides our own (the logo's, when it is a URL). */
  imageOrigins: string[];
  pages: nunjucks.Environment;
  mail: { html: nunjucks.Environment; text: nunjucks.Environment };
  assets: Map<string, Asset>;
  /** The theme has assets/theme.css: pages link it after the built-in stylesheet. */
  themeCss: boolean;
  /** The light scheme's accent (mail, which has no dark scheme of its own). */
  accent: string;
  /** Marks HTML as already escaped for the templates (the catalogue's markup). */
  safe(html: string): unknown;
}

export function brandCss(colors: BrandColors): string {
  return [
    `:root { --accent: ${colors.light.accent}; --accent-ink: ${colors.light.accentInk}; }`,
    `@media (prefers-color-scheme: dark) { :root { --accent: ${colors.dark.accent}; --accent-ink: ${colors.dark.accentInk}; } }`,
    '',
  ].join('\n');
}

/** A theme or language file that cannot be used stops the start, naming THEME_DIR and the file. */
function themed<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ThemeError || err instanceof CatalogueError) {
      throw new UiSettingsError(
        `invalid configuration:\n${err.message
          .split('\n')
          .map((l) => `  THEME_DIR: ${l}`)
          .join('\n')}`,
      );
    }
    throw err;
  }
}

export function loadUi(config: Pick<Config, 'brand' | 'themeDir' | 'defaultLocale'>, viewsDir = VIEWS_DIR): Ui {
  const { brand, themeDir } = config;
  if (themeDir) themed(() => checkThemeTemplates(themeDir));
  const catalogue = themed(() => loadCatalogue(join(viewsDir, 'locales'), themeDir));
  if (!catalogue.has(config.defaultLocale)) {
    throw new UiSettingsError(
      `invalid configuration:\n  DEFAULT_LOCALE: ${config.defaultLocale} is not a language Latchkey has (${catalogue.tags.join(', ')}); ` +
        `add THEME_DIR/locales/${config.defaultLocale}.json or choose one of those`,
    );
  }
  const assets = themed(() => loadAssets(viewsDir, themeDir));
  assets.set('brand.css', { body: Buffer.from(brandCss(brand.colors)), type: 'text/css; charset=utf-8' });
  let logoSrc: string | undefined;
  const imageOrigins: string[] = [];
  if (brand.logo && 'file' in brand.logo) {
    const ext = extname(brand.logo.file).toLowerCase();
    assets.set(`brand-logo${ext}`, { body: readFileSync(brand.logo.file), type: brand.logo.type });
    logoSrc = `/assets/brand-logo${ext}`;
  } else if (brand.logo) {
    logoSrc = brand.logo.url;
    imageOrigins.push(new URL(brand.logo.url).origin);
  }
  const env = (dir: string, theme: string | undefined, autoescape: boolean) =>
    new nunjucks.Environment(templateLoaders(dir, theme), { autoescape, throwOnUndefined: false });
  return {
    catalogue,
    defaultLocale: config.defaultLocale,
    brand: { name: brand.name, logoSrc, supportUrl: brand.supportUrl, privacyUrl: brand.privacyUrl, termsUrl: brand.termsUrl },
    imageOrigins,
    pages: env(viewsDir, themeDir, true),
    mail: {
      html: env(join(viewsDir, 'mail'), themeDir && join(themeDir, 'mail'), true),
      text: env(join(viewsDir, 'mail'), themeDir && join(themeDir, 'mail'), false),
    },
    assets,
    themeCss: assets.has('theme.css'),
    accent: brand.colors.light.accent,
    safe: (html) => new nunjucks.runtime.SafeString(html),
  };
}
