// The message catalogue: every shipped language complete, every word of
// every page and mail from it, and an operator's language file checked the
// way start-up checks it. In-process: files and strings only.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadCatalogue, REFERENCE_LANGUAGE } from '../../src/ui/catalogue.ts';
import { chooseLanguage, parseAcceptLanguage } from '../../src/ui/negotiate.ts';
import { VIEWS_DIR } from '../../src/ui/ui.ts';

const LOCALES = join(VIEWS_DIR, 'locales');
const SHIPPED = ['de', 'en', 'es', 'fr'];

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(path, ext);
    return e.name.endsWith(ext) ? [path] : [];
  });
}

type Tree = { [k: string]: string | Tree };
const flat = (tree: Tree, prefix = '', out = new Map<string, string | Tree>()) => {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const plural = typeof v === 'object' && Object.keys(v).every((f) => ['zero', 'one', 'two', 'few', 'many', 'other'].includes(f));
    if (typeof v === 'string' || plural) out.set(key, v);
    else flat(v, key, out);
  }
  return out;
};
const readLanguage = (tag: string) => flat(JSON.parse(readFileSync(join(LOCALES, `${tag}.json`), 'utf8')) as Tree);
const placeholders = (v: string | Tree) => [...new Set(JSON.stringify(v).match(/\{\w+\}/g) ?? [])].sort();

describe('the message catalogue', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'latchkey-catalogue-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('ships English, German, French and Spanish, each with every key of English and the same placeholders', () => {
    const catalogue = loadCatalogue(LOCALES);
    assert.deepEqual([...catalogue.tags].sort(), SHIPPED);
    const en = readLanguage(REFERENCE_LANGUAGE);
    for (const tag of SHIPPED) {
      const lang = readLanguage(tag);
      assert.deepEqual([...lang.keys()].sort(), [...en.keys()].sort(), `${tag}.json has the keys of en.json`);
      for (const [key, value] of en) {
        assert.deepEqual(placeholders(lang.get(key)!), placeholders(value), `${tag}: ${key} has the placeholders of English`);
        for (const tagName of JSON.stringify(lang.get(key)).match(/<\/?([a-z]+)/g) ?? []) {
          assert.match(tagName, /^<\/?(strong|em|code)$/, `${tag}: ${key} marks words only with strong, em or code`);
        }
      }
    }
  });

  it('refuses at start-up a shipped language that lacks a key, naming the file and the key', () => {
    const dir = join(scratch, 'missing');
    cpSync(LOCALES, dir, { recursive: true });
    const de = JSON.parse(readFileSync(join(dir, 'de.json'), 'utf8')) as Tree;
    delete (de.login as Tree).forgot;
    writeFileSync(join(dir, 'de.json'), JSON.stringify(de));
    assert.throws(() => loadCatalogue(dir), /de\.json: missing login\.forgot/);
  });

  it('every key a page, a mail or the code asks for exists', () => {
    const keys = new Set(loadCatalogue(LOCALES).keys());
    const groups = new Set([...keys].map((k) => k.split('.')[0]!));
    const wanted: [string, string][] = [];
    for (const file of filesUnder(VIEWS_DIR, '.njk')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([\w.]+)'/g)) wanted.push([m[1]!, file]);
      for (const m of readFileSync(file, 'utf8').matchAll(/Key = '([\w.]+)'/g)) wanted.push([m[1]!, file]);
    }
    for (const file of filesUnder(join(VIEWS_DIR, '..', 'src'), '.ts')) {
      // msg('…') and the tables of keys beside it ('group.key' strings of a known group).
      for (const m of readFileSync(file, 'utf8').matchAll(/'([a-z][A-Za-z]+\.[\w.]+)'/g)) {
        if (groups.has(m[1]!.split('.')[0]!) && !/\.(ts|njk|json|js|css)$/.test(m[1]!)) wanted.push([m[1]!, file]);
      }
    }
    assert.ok(wanted.length > 300, `found the keys in use (${wanted.length})`);
    const unknown = wanted.filter(([k]) => !keys.has(k) && ![...keys].some((x) => x.startsWith(`${k}.`)));
    assert.deepEqual(
      unknown.map(([k, f]) => `${k} (${relative(VIEWS_DIR, f)})`),
      [],
    );
  });

  it('no template holds words of its own: text and labelling attributes come from the catalogue', () => {
    const found: string[] = [];
    for (const file of filesUnder(VIEWS_DIR, '.njk')) {
      let s = readFileSync(file, 'utf8')
        .replace(/\{#[\s\S]*?#\}/g, '')
        // A class name a page gives its card is not words.
        .replace(/\{%-?\s*block card_class\s*-?%\}[\s\S]*?\{%-?\s*endblock\s*-?%\}/g, '')
        .replace(/\{%[\s\S]*?%\}/g, '')
        .replace(/\{\{[\s\S]*?\}\}/g, '');
      for (const [, attr, value] of s.matchAll(/\b(alt|title|aria-label|placeholder|label)="([^"]*)"/g)) {
        if (/\p{L}/u.test(value!)) found.push(`${relative(VIEWS_DIR, file)}: ${attr}="${value}"`);
      }
      s = s
        .replace(/<style[\s\S]*?<\/style>/g, '')
        .replace(/<[^>]*>/g, '')
        .replace(/&[a-z]+;|&#\d+;/g, '')
        // Attributes a macro writes outside a tag (form.njk's aria-describedby, the passkey messages).
        .replace(/[\w-]+="[^"]*"/g, '');
      for (const line of s.split('\n')) if (/\p{L}/u.test(line)) found.push(`${relative(VIEWS_DIR, file)}: ${line.trim()}`);
    }
    assert.deepEqual(found, []);
  });

  it('an operator adds a language or rewords keys of a shipped one from THEME_DIR/locales; a missing key falls back to English with a warning', () => {
    const theme = join(scratch, 'theme');
    cpSync(join(import.meta.dirname, 'fixtures'), theme, { recursive: true });
    const catalogue = loadCatalogue(LOCALES, theme);
    assert.ok(catalogue.has('nl'));
    assert.equal(catalogue.language('nl').name, 'Nederlands');
    assert.equal(catalogue.text('nl', 'login.title'), 'Inloggen');
    assert.equal(catalogue.text('nl', 'login.forgot'), 'Forgot your password?', 'English where the file says nothing');
    assert.equal(catalogue.text('de', 'login.title'), 'Einloggen', "the operator's wording of a shipped key");
    assert.equal(catalogue.text('de', 'login.forgot'), 'Passwort vergessen?');
    assert.ok(catalogue.warnings.some((w) => /nl\.json: \d+ keys missing, shown in English/.test(w)));
    assert.ok(catalogue.warnings.some((w) => /de\.json: keys Latchkey does not use \(misspelt\?\): login\.titel/.test(w)));
  });

  it('escapes parameters and markup other than strong, em and code', () => {
    const catalogue = loadCatalogue(LOCALES);
    assert.equal(
      catalogue.html('en', 'consent.signedInAs', { email: '<img src=x onerror=alert(1)>@x' }),
      'Signed in as <strong>&lt;img src=x onerror=alert(1)&gt;@x</strong>.',
    );
    assert.equal(catalogue.text('en', 'consent.signedInAs', { email: 'a@b' }), 'Signed in as a@b.');
  });

  it('plural forms follow each language; dates and numbers are formatted for it', () => {
    const catalogue = loadCatalogue(LOCALES);
    assert.equal(catalogue.text('en', 'account.passkeyCount', { count: 1 }), '1 passkey');
    assert.equal(catalogue.text('fr', 'account.passkeyCount', { count: 0 }), '0 clé d’accès', 'French says one for zero');
    assert.equal(catalogue.text('de', 'account.passkeyCount', { count: 1200 }), '1.200 Passkeys');
    const at = new Date(Date.UTC(2026, 2, 5, 14, 30));
    assert.match(catalogue.text('de', 'keys.expires', { date: at }), /^Läuft ab am 5\. März 2026, 14:30 UTC$/);
    assert.match(catalogue.text('en', 'keys.expires', { date: at }), /^Expires Mar 5, 2026, (0)?2:30 PM UTC$/);
  });

  it('the language of a page: the switcher, then ui_locales, then the saved one, then Accept-Language, then DEFAULT_LOCALE', () => {
    const all = SHIPPED;
    assert.equal(chooseLanguage({ chosen: 'es', uiLocales: ['fr'], saved: 'de', acceptLanguage: 'en' }, all, 'en'), 'es');
    assert.equal(chooseLanguage({ uiLocales: ['pt-BR', 'fr-CA'], saved: 'de', acceptLanguage: 'en' }, all, 'en'), 'fr');
    assert.equal(chooseLanguage({ saved: 'de', acceptLanguage: 'es' }, all, 'en'), 'de');
    assert.equal(chooseLanguage({ acceptLanguage: 'pt;q=0.9, es-MX;q=0.8, de;q=0' }, all, 'en'), 'es');
    assert.equal(chooseLanguage({ acceptLanguage: 'ja' }, all, 'fr'), 'fr');
    assert.deepEqual(parseAcceptLanguage('de;q=0, fr;q=0.5, <script>, es'), ['es', 'fr']);
  });
});
