// scripts/build.mjs escapes what is left outside ASCII in the bundle, so
// that V8 keeps each chunk's source at one byte per character. What is left
// after esbuild is in comments, regular expressions and tagged templates'
// raw text; only the comments may change, or the code would mean another
// thing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { asciiOnly, root } from '../../scripts/build.mjs';

const esbuild: unknown = createRequire(join(root, 'package.json'))('esbuild');

describe('the ASCII bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-ascii-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('escapes characters in comments, and leaves a file whose code holds others as it was', async () => {
    const comments = '// a dash \u2014 and an \u00e9\n/** \u00fc */\nexport const word = "caf\\u00e9";\n';
    const code = '// \u2014\nexport const pattern = /\u00e9[\u00fc]/;\nexport const raw = String.raw`\u00e9`;\n';
    writeFileSync(join(dir, 'comments.js'), comments);
    writeFileSync(join(dir, 'code.js'), code);
    asciiOnly(dir, esbuild);

    const escaped = readFileSync(join(dir, 'comments.js'), 'utf8');
    assert.equal(escaped.search(/[\u0080-\u{10ffff}]/u), -1, escaped);
    assert.match(escaped, /a dash \\u\{2014\} and an \\u\{e9\}/);
    assert.equal((await import(pathToFileURL(join(dir, 'comments.js')).href)).word, 'caf\u00e9');

    assert.equal(readFileSync(join(dir, 'code.js'), 'utf8'), code, 'escaping the pattern or the raw text would change them');
    const mod = await import(pathToFileURL(join(dir, 'code.js')).href);
    assert.ok(mod.pattern.test('\u00e9\u00fc'));
    assert.equal(mod.raw, '\u00e9');
  });
});
