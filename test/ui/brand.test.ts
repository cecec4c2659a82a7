// The brand's colours and the stylesheet's own: WCAG AA contrast, checked
// at start-up for BRAND_COLOR (refused with the nearest colour that passes)
// and here for the built-in field borders and focus ring (3:1, non-text
// contrast), in both colour schemes. In-process.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import { checkBrandColors, DARK_BACKGROUNDS, LIGHT_BACKGROUNDS } from '../../src/config/brand-colors.ts';
import { AA_NON_TEXT, AA_TEXT, contrast, parseHexColor } from '../../src/config/contrast.ts';
import { loadUi, VIEWS_DIR } from '../../src/ui/ui.ts';
import { openRuntime } from '../../src/runtime.ts';

const rgb = (hex: string) => parseHexColor(hex)!;

/** The custom properties of style.css: the light scheme's, then the dark one's over them. */
function schemes(): { light: Record<string, string>; dark: Record<string, string> } {
  const css = readFileSync(join(VIEWS_DIR, 'assets', 'style.css'), 'utf8');
  const vars = (block: string) => Object.fromEntries([...block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{3,6})\b/gi)].map((m) => [m[1]!, m[2]!]));
  const light = vars(css.match(/:root\s*\{([^}]*)\}/)![1]!);
  const dark = { ...light, ...vars(css.match(/prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}/)![1]!) };
  return { light, dark };
}

describe('brand colours and contrast', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'latchkey-brand-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('a BRAND_COLOR without 4.5:1 against white stops the start, naming the variable, the ratio and the nearest colour that passes', () => {
    assert.throws(
      () => loadConfig({ BRAND_COLOR: '#7fa7ff' }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(
          err.message,
          /BRAND_COLOR: #7fa7ff has 2\.\d\d:1 against white \(#ffffff\); WCAG AA needs 4\.5:1 .* The nearest colour that passes is (#[0-9a-f]{6})/,
        );
        const nearest = err.message.match(/passes is (#[0-9a-f]{6})/)![1]!;
        assert.ok(checkBrandColors(nearest, undefined).ok, 'the suggestion itself is accepted');
        return true;
      },
    );
    assert.throws(() => loadConfig({ BRAND_COLOR: 'blue' }), /BRAND_COLOR: "blue" is not a colour; write it as #rrggbb/);
    assert.throws(() => loadConfig({ BRAND_COLOR_DARK: '#1a1a40' }), /BRAND_COLOR_DARK: #1a1a40 has 1\.\d\d:1 against the dark card background/);
  });

  it('an accepted colour gets a dark-scheme accent that passes there too, and both reach the pages', () => {
    const colors = checkBrandColors('#8a1538', undefined);
    assert.ok(colors.ok);
    for (const bg of Object.values(LIGHT_BACKGROUNDS)) assert.ok(contrast(rgb(colors.colors.light.accent), rgb(bg)) >= AA_TEXT);
    for (const bg of Object.values(DARK_BACKGROUNDS))
      assert.ok(contrast(rgb(colors.colors.dark.accent), rgb(bg)) >= AA_TEXT, `${colors.colors.dark.accent} on ${bg}`);
    assert.ok(contrast(rgb(colors.colors.dark.accent), rgb(colors.colors.dark.accentInk)) >= AA_TEXT, 'button labels on the dark accent');
    const ui = loadUi(loadConfig({ BRAND_COLOR: '#8a1538', BRAND_NAME: 'Acme' }));
    const css = ui.assets.get('brand.css')!.body.toString();
    assert.match(css, /--accent: #8a1538/);
    assert.match(css, new RegExp(`prefers-color-scheme: dark.*--accent: ${colors.colors.dark.accent}`));
    assert.equal(ui.brand.name, 'Acme');
  });

  it('the stylesheet: text 4.5:1, field borders and the focus ring 3:1, in both schemes', () => {
    const { light, dark } = schemes();
    for (const [scheme, v, accent] of [
      ['light', light, '#2456d3'],
      ['dark', dark, checkBrandColors('#2456d3', undefined).colors!.dark.accent],
    ] as const) {
      for (const bg of [v.bg!, v.card!]) {
        for (const text of ['ink', 'muted', 'bad', 'good']) assert.ok(contrast(rgb(v[text]!), rgb(bg)) >= AA_TEXT, `${scheme}: --${text} on ${bg}`);
        assert.ok(
          contrast(rgb(v.field!), rgb(bg)) >= AA_NON_TEXT,
          `${scheme}: field border --field ${v.field} on ${bg}: ${contrast(rgb(v.field!), rgb(bg)).toFixed(2)}:1`,
        );
        assert.ok(contrast(rgb(accent), rgb(bg)) >= AA_NON_TEXT, `${scheme}: focus ring on ${bg}`);
      }
    }
  });

  it('a theme template that turns escaping off or adds a script is refused at start-up, naming the file and line', () => {
    const theme = join(scratch, 'theme');
    rmSync(theme, { recursive: true, force: true });
    const files: [string, string][] = [
      ['login.njk', '{% extends "builtin/login.njk" %}\n{% block heading %}{{ brand.name | safe }}{% endblock %}'],
      ['layout.njk', '<script>alert(1)</script>'],
    ];
    for (const [file, body] of files) {
      const path = join(theme, file);
      mkdirSync(theme, { recursive: true });
      writeFileSync(path, body);
    }
    assert.throws(
      () => loadUi(loadConfig({ THEME_DIR: theme })),
      (err: Error) => {
        assert.match(err.message, /THEME_DIR: .*login\.njk:2: the safe filter \(it turns escaping off\) is not allowed in a theme/);
        assert.match(err.message, /THEME_DIR: .*layout\.njk:1: a script/);
        return true;
      },
    );
  });

  it('a theme or DEFAULT_LOCALE that cannot be used stops the start as a configuration error naming the variable, before anything is opened', async () => {
    await assert.rejects(
      openRuntime(loadConfig({ DEFAULT_LOCALE: 'nl', DATABASE_URL: 'file:/nonexistent/never-opened.db' })),
      (err: Error) => err instanceof ConfigError && /DEFAULT_LOCALE: nl is not a language Latchkey has/.test(err.message),
    );
  });
});
