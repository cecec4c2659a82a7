// The message catalogue: every word a page or a mail shows, per language,
// from views/locales/<lang>.json (English, German, French and Spanish are
// shipped, each complete) and THEME_DIR/locales/<lang>.json (an operator's
// own language, or their wording of some keys of a shipped one).
//
// A file is one JSON object, nested by page: { "login": { "title": "Sign in" } }
// is the key `login.title`. A value is a string with {placeholders}, or, for
// words that change with a number, an object of plural forms chosen by the
// `count` parameter and the language's own rules (Intl.PluralRules):
// { "one": "{count} code left", "other": "{count} codes left" }.
// Messages may mark words with <strong>, <em> and <code>; everything else in
// a message, and every parameter, is escaped.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDateTime, formatNumber } from './format.ts';

/** Words to show, not yet in a language: what services hand to pages. A parameter may itself be a message. */
export interface Message {
  key: string;
  params?: Params;
}

export type Params = Readonly<Record<string, string | number | Date | Message | null | undefined>>;

export const msg = (key: string, params?: Params): Message => ({ key, ...(params ? { params } : {}) });

const PLURAL_FORMS = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);
type Plural = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
type Entry = string | Plural;

export interface Language {
  tag: string;
  /** The language's name in itself (the switcher shows it so). */
  name: string;
  dir: 'ltr' | 'rtl';
}

/** The language every other is checked against, and the fallback for a key an operator's language lacks. */
export const REFERENCE_LANGUAGE = 'en';

const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

function isPlural(value: unknown): value is Plural {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.keys(value).every((k) => PLURAL_FORMS.has(k)) &&
    Object.values(value).every((v) => typeof v === 'string') &&
    typeof (value as Record<string, unknown>).other === 'string'
  );
}

/** `{ a: { b: "x" } }` → `a.b` → "x". */
function flatten(value: unknown, file: string, prefix = '', out = new Map<string, Entry>()): Map<string, Entry> {
  if (typeof value === 'string' || isPlural(value)) {
    out.set(prefix, value);
    return out;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CatalogueError(`${file}: ${prefix || 'the file'} must be a string, plural forms ({ "one": …, "other": … }) or an object of messages`);
  }
  for (const [k, v] of Object.entries(value)) flatten(v, file, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

function readLanguageFile(path: string): Map<string, Entry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CatalogueError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return flatten(parsed, path);
}

function languageFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue;
    const tag = file.slice(0, -'.json'.length);
    if (!LANGUAGE_TAG.test(tag)) throw new CatalogueError(`${join(dir, file)}: name the file after a language tag, such as de.json or pt-BR.json`);
    out.set(tag, join(dir, file));
  }
  return out;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
const ALLOWED_MARKUP = /&lt;(\/?)(strong|em|code)&gt;/g;
const MARKUP = /<\/?(strong|em|code)>/g;

export interface Catalogue {
  /** Language tags, the reference language first. */
  readonly tags: readonly string[];
  readonly languages: readonly Language[];
  has(tag: string): boolean;
  language(tag: string): Language;
  /** Plain text (mail's text part, titles, headers): markup dropped. */
  text(tag: string, key: string, params?: Params): string;
  /** HTML: the message escaped but for its own <strong>/<em>/<code>, parameters escaped. */
  html(tag: string, key: string, params?: Params): string;
  /** Every key of the reference language (tests, tools). */
  keys(): string[];
  /** Said once at start-up: an operator's language that lacks keys, or has keys nobody reads. */
  readonly warnings: readonly string[];
}

/**
 * Reads the shipped languages from `builtinDir` and an operator's from
 * `themeDir`. The shipped ones must be complete (a missing key is a bug:
 * thrown); an operator's may lack keys (shown in English, with a warning) or
 * override only some.
 */
export function loadCatalogue(builtinDir: string, themeDir?: string): Catalogue {
  const builtin = languageFiles(builtinDir);
  const reference = builtin.get(REFERENCE_LANGUAGE);
  if (!reference) throw new CatalogueError(`${builtinDir}: ${REFERENCE_LANGUAGE}.json is missing`);
  const entries = new Map<string, Map<string, Entry>>();
  const ref = readLanguageFile(reference);
  entries.set(REFERENCE_LANGUAGE, ref);
  for (const [tag, path] of builtin) {
    if (tag === REFERENCE_LANGUAGE) continue;
    const lang = readLanguageFile(path);
    const missing = [...ref.keys()].filter((k) => !lang.has(k));
    const extra = [...lang.keys()].filter((k) => !ref.has(k));
    if (missing.length || extra.length) {
      throw new CatalogueError(
        `${path}: ${[missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `not in ${REFERENCE_LANGUAGE}.json: ${extra.join(', ')}` : '']
          .filter(Boolean)
          .join('; ')}`,
      );
    }
    entries.set(tag, lang);
  }
  const warnings: string[] = [];
  for (const [tag, path] of themeDir ? languageFiles(join(themeDir, 'locales')) : []) {
    const own = readLanguageFile(path);
    const unknown = [...own.keys()].filter((k) => !ref.has(k));
    if (unknown.length) warnings.push(`${path}: keys Latchkey does not use (misspelt?): ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}`);
    const base = entries.get(tag);
    if (!base) {
      const missing = [...ref.keys()].filter((k) => !own.has(k));
      if (missing.length)
        warnings.push(`${path}: ${missing.length} keys missing, shown in English: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);
    }
    entries.set(tag, new Map([...(base ?? ref), ...[...own].filter(([k]) => ref.has(k))]));
  }

  const tags = [REFERENCE_LANGUAGE, ...[...entries.keys()].filter((t) => t !== REFERENCE_LANGUAGE).sort()];
  const languages = tags.map((tag): Language => {
    const e = entries.get(tag)!;
    const name = e.get('meta.name');
    return { tag, name: typeof name === 'string' ? name : tag, dir: e.get('meta.dir') === 'rtl' ? 'rtl' : 'ltr' };
  });
  const byTag = new Map(languages.map((l) => [l.tag, l]));
  const plurals = new Map<string, Intl.PluralRules>();

  function pick(tag: string, key: string, params: Params | undefined): string {
    const entry = entries.get(tag)?.get(key) ?? ref.get(key);
    if (entry === undefined) return key;
    if (typeof entry === 'string') return entry;
    let rules = plurals.get(tag);
    if (!rules) {
      rules = new Intl.PluralRules(tag);
      plurals.set(tag, rules);
    }
    return entry[rules.select(Number(params?.count ?? 0))] ?? entry.other;
  }

  const isMessage = (v: unknown): v is Message => typeof v === 'object' && v !== null && !(v instanceof Date) && typeof (v as Message).key === 'string';

  /** A parameter as text (`html`: escaped, or a nested message's own HTML). */
  function value(tag: string, v: Params[string], html: boolean): string {
    if (isMessage(v)) return html ? toHtml(tag, v.key, v.params) : toText(tag, v.key, v.params);
    const text = v instanceof Date ? formatDateTime(tag, v) : typeof v === 'number' ? formatNumber(tag, v) : (v ?? '');
    return html ? escapeHtml(text) : text;
  }

  const fill = (tag: string, template: string, params: Params | undefined, html: boolean) =>
    template.replace(/\{(\w+)\}/g, (whole, name: string) => (params && name in params ? value(tag, params[name], html) : whole));

  function toText(tag: string, key: string, params?: Params): string {
    return fill(tag, pick(tag, key, params).replace(MARKUP, ''), params, false);
  }

  function toHtml(tag: string, key: string, params?: Params): string {
    return fill(tag, escapeHtml(pick(tag, key, params)).replace(ALLOWED_MARKUP, '<$1$2>'), params, true);
  }

  return {
    tags,
    languages,
    warnings,
    has: (tag) => entries.has(tag),
    language: (tag) => byTag.get(tag) ?? byTag.get(REFERENCE_LANGUAGE)!,
    text: toText,
    html: toHtml,
    keys: () => [...ref.keys()],
  };
}
