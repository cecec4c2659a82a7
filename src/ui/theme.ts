// THEME_DIR: an operator's folder laid out like views/ — page templates
// (`*.njk`), mail templates (`mail/*.njk`), assets (`assets/…`) and
// languages (`locales/<lang>.json`) — each file replacing the built-in one
// of the same name. A theme's template may extend the built-in one it
// replaces as `builtin/<name>` and override only some of its blocks.
//
// What a theme cannot do: turn escaping off (templates using `safe` or
// `autoescape` are refused at start-up, and the environment always
// escapes), run scripts (no `<script>`; the pages' Content-Security-Policy
// is set by the server and allows none but Latchkey's own passkey script),
// or skip CSRF (the server checks every form post, whatever the template).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import nunjucks from 'nunjucks';

export class ThemeError extends Error {
  override name = 'ThemeError';
}

const FORBIDDEN: [RegExp, string][] = [
  [/\|\s*safe\b/, 'the safe filter (it turns escaping off)'],
  [/\{%-?\s*autoescape\b/, 'an autoescape tag (escaping stays on)'],
  [/<script\b/i, "a script (pages run none but Latchkey's own)"],
  [/\bmarkSafe\b|\bSafeString\b/, 'unescaped output'],
];

function templatesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'assets' || e.name === 'locales' ? [] : templatesUnder(path);
    return e.name.endsWith('.njk') ? [path] : [];
  });
}

/** Refuses a theme whose templates would turn off escaping or add scripts, naming the file and line. */
export function checkThemeTemplates(themeDir: string): void {
  const problems: string[] = [];
  for (const file of templatesUnder(themeDir)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const [pattern, what] of FORBIDDEN) {
        if (pattern.test(line)) problems.push(`${file}:${i + 1}: ${what} is not allowed in a theme`);
      }
    });
  }
  if (problems.length) throw new ThemeError(problems.join('\n'));
}

/** `builtin/<name>`: the built-in template, whatever the theme has. */
class BuiltinLoader extends nunjucks.Loader implements nunjucks.ILoader {
  private readonly inner: nunjucks.FileSystemLoader;
  constructor(dir: string) {
    super();
    this.inner = new nunjucks.FileSystemLoader(dir);
  }
  getSource(name: string): nunjucks.LoaderSource {
    if (!name.startsWith('builtin/')) return null as unknown as nunjucks.LoaderSource;
    return this.inner.getSource(name.slice('builtin/'.length));
  }
}

/** Template search path: the theme's folder first, then `builtin/…`, then the built-in folder. */
export function templateLoaders(builtinDir: string, themeDir: string | undefined): nunjucks.ILoader[] {
  return [
    ...(themeDir && existsSync(themeDir) ? [new nunjucks.FileSystemLoader(themeDir)] : []),
    new BuiltinLoader(builtinDir),
    new nunjucks.FileSystemLoader(builtinDir),
  ];
}

export const ASSET_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

export interface Asset {
  body: Buffer;
  type: string;
}

const MAX_ASSET_BYTES = 2 * 1024 * 1024;

function assetsUnder(dir: string, scripts: boolean): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) {
        walk(path);
        continue;
      }
      const type = ASSET_TYPES[extname(e.name).toLowerCase()];
      // A theme's scripts would not run (CSP), so they are not served either.
      if (!type || (!scripts && type.startsWith('text/javascript'))) continue;
      if (statSync(path).size > MAX_ASSET_BYTES) throw new ThemeError(`${path}: larger than 2 MB`);
      out.set(relative(dir, path).split(sep).join('/'), { body: readFileSync(path), type });
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Every file served under /assets/: the built-in ones, each replaced by the theme's of the same name, plus the theme's own. */
export function loadAssets(builtinDir: string, themeDir: string | undefined): Map<string, Asset> {
  return new Map([...assetsUnder(join(builtinDir, 'assets'), true), ...(themeDir ? assetsUnder(join(themeDir, 'assets'), false) : [])]);
}
