// A page answered in floods (a rate limit's refusal) is rendered once per
// template, language and variables, and reused with each request's own
// return path filled in (src/middleware/koa-render.ts, `reuse`). What a
// person gets must not change: the reused page is, byte for byte, the page
// rendered anew, in each language, for each wait and each address (one with
// a character the page escapes); a theme that prints the return path
// otherwise gets its pages rendered anew; and a flood of refusals renders
// the page once per language and wait.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { loadConfig } from '../../src/config/env.ts';
import { createRenderer } from '../../src/middleware/koa-render.ts';
import { msg } from '../../src/ui/catalogue.ts';
import { loadUi } from '../../src/ui/ui.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** The language switcher's links on a page: where each returns to. */
const returnPaths = (html: string) => [...html.matchAll(/href="\/language\?lang=[^"&]+&amp;return=([^"]*)"/g)].map((m) => m[1]!.replaceAll('&#39;', "'"));

/** A server answering every path with the refusal page for `?wait=N`, rendered anew or (header x-reuse) reused. */
async function pageServer(config: Record<string, string> = {}) {
  const render = createRenderer(loadUi(loadConfig(config)));
  const app = new Koa();
  app.use((ctx) => {
    const count = Number(new URLSearchParams(ctx.querystring).get('wait') ?? 7);
    const vars = { heading: msg('error.tooManyTitle'), message: msg('error.tooMany', { count }), code: 'too_many_requests' };
    render(ctx, 'error', ctx.get('x-reuse') ? { ...vars, reuse: true } : vars, 429);
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, language: string, reuse: boolean) => {
    const res = await fetch(url + path, { headers: { 'accept-language': language, ...(reuse ? { 'x-reuse': '1' } : {}) } });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('content-language'), language);
    return res.text();
  };
  return { get, close: () => server.close() };
}

describe('pages rendered once and reused', () => {
  let pages: Awaited<ReturnType<typeof pageServer>>;
  before(async () => {
    pages = await pageServer();
  });
  after(() => pages?.close());

  it('a reused page is the page rendered anew, byte for byte, in every language, for every wait and every address', async () => {
    // A ' stays as it is in a path (not in a query: fetch encodes it there), and the page escapes it.
    const paths = ['/auth?client_id=app&state=1&wait=7', "/it's/(x)*!~?nonce=2&wait=7", '/interaction/abc/login?wait=8', '/?wait=8', '/x?wait=7'];
    const seen = new Set<string>();
    for (const language of ['en', 'de', 'fr', 'es']) {
      for (const path of paths) {
        const fresh = await pages.get(path, language, false);
        assert.deepEqual(new Set(returnPaths(fresh)), new Set([encodeURIComponent(path)]), `the fresh page's links return to ${path}`);
        if (path.includes("'")) assert.match(fresh, /it&#39;s/, 'the page escapes the address');
        // The first of a language and wait is stored; the others, and the second of each, are filled in from it.
        assert.equal(await pages.get(path, language, true), fresh, `${language} ${path}: reused`);
        assert.equal(await pages.get(path, language, true), fresh, `${language} ${path}: reused again`);
        seen.add(fresh);
      }
    }
    assert.equal(seen.size, 20, 'every language, wait and address its own page');
  });

  it('a theme that prints the return path otherwise than as given gets each page rendered anew', async () => {
    const theme = mkdtempSync(join(tmpdir(), 'latchkey-theme-'));
    mkdirSync(join(theme, 'partials'));
    const switcher = [
      '<nav class="languages" aria-label="{{ t(\'layout.languages\') }}"><ul>{% for l in languages %}',
      '<li><a href="{{ l.href | upper }}" lang="{{ l.tag }}">{{ l.name }}</a></li>{% endfor %}</ul></nav>',
    ];
    writeFileSync(join(theme, 'partials', 'language-switcher.njk'), `${switcher.join('')}\n`);
    const themed = await pageServer({ THEME_DIR: theme });
    try {
      for (const path of ['/a?wait=7', '/b?wait=7']) {
        const fresh = await themed.get(path, 'en', false);
        assert.ok(fresh.includes(encodeURIComponent(path).toUpperCase()), 'the theme printed the path its way');
        assert.equal(await themed.get(path, 'en', true), fresh, `${path}: as rendered anew`);
      }
    } finally {
      themed.close();
      rmSync(theme, { recursive: true, force: true });
    }
  });
});

describe('a flood of refused authorization requests', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ RATE_LIMIT_AUTHORIZE: '2/60' });
  });
  after(() => server?.stop());

  it('renders the refusal page once per language and wait, each copy returning to its own address', async () => {
    const { pages } = server.runtime.ui;
    const rendered: string[] = [];
    const renderPage = pages.render.bind(pages);
    pages.render = ((name: string, ctx?: { code?: string }) => {
      if (ctx?.code === 'too_many_requests') rendered.push(name);
      return renderPage(name, ctx);
    }) as typeof pages.render;
    try {
      const refusals = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const path = `/auth?client_id=nobody&response_type=code&scope=openid&state=s${i}`;
          const res = await fetch(server.url + path, { headers: { 'accept-language': i % 2 ? 'de' : 'en' } });
          return { path, status: res.status, language: res.headers.get('content-language'), wait: res.headers.get('retry-after'), html: await res.text() };
        }),
      );
      const refused = refusals.filter((r) => r.status === 429);
      assert.equal(refused.length, 38, 'all but the budget of 2 are refused');
      for (const r of refused) assert.deepEqual(new Set(returnPaths(r.html)), new Set([encodeURIComponent(r.path)]), `${r.path} returns to itself`);
      assert.deepEqual(new Set(refused.map((r) => r.language)), new Set(['en', 'de']));
      for (const r of refused) assert.ok(r.html.includes(`${r.wait}`), `${r.path}: the page names its wait (${r.wait} s)`);
      // Each language and wait (it may tick over while the flood runs) once: the stored copy and, to compare, the page rendered anew.
      const kinds = new Set(refused.map((r) => `${r.language} ${r.wait}`)).size;
      assert.equal(rendered.length, 2 * kinds, `the refusal page was rendered ${rendered.length} times for ${refused.length} refusals`);
    } finally {
      pages.render = renderPage;
    }
  });
});
