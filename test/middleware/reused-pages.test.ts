// A page answered in floods (a rate limit's refusal) is rendered once per
// template, language and key, and reused with its own return path filled in
// (src/middleware/koa-render.ts, `reuseAs`). What a person gets must not
// change: the reused page is, byte for byte, the page rendered anew, in each
// language and for each address (one with characters the page escapes
// among them); and a flood of refusals does render the page only once per
// language and wait.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { loadConfig } from '../../src/config/env.ts';
import { createRenderer } from '../../src/middleware/koa-render.ts';
import { msg } from '../../src/ui/catalogue.ts';
import { loadUi } from '../../src/ui/ui.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** The language switcher's links on a page: where each returns to. */
const returnPaths = (html: string) => [...html.matchAll(/href="\/language\?lang=[^"&]+&amp;return=([^"]*)"/g)].map((m) => m[1]!.replaceAll('&#39;', "'"));

describe('pages rendered once and reused', () => {
  let url: string;
  let close: () => void;
  before(async () => {
    const render = createRenderer(loadUi(loadConfig({})));
    const app = new Koa();
    // The same page either way; the header asks for the reused copy.
    app.use((ctx) => {
      const vars = { heading: msg('error.tooManyTitle'), message: msg('error.tooMany', { count: 7 }), code: 'too_many_requests' };
      render(ctx, 'error', ctx.get('x-reuse') ? { ...vars, reuseAs: 'too-many 7' } : vars, 429);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  after(() => close?.());

  it('a reused page is the page rendered anew, byte for byte, in every language and for every address', async () => {
    // A ' stays as it is in a path (not in a query: fetch encodes it there), and the page escapes it.
    const paths = ['/auth?client_id=app&state=1', "/it's/(x)*!~?nonce=2", '/interaction/abc/login', '/'];
    let compared = 0;
    for (const language of ['en', 'de', 'fr', 'es']) {
      for (const path of paths) {
        const get = async (reuse: boolean) => {
          const res = await fetch(url + path, { headers: { 'accept-language': language, ...(reuse ? { 'x-reuse': '1' } : {}) } });
          assert.equal(res.status, 429);
          assert.equal(res.headers.get('content-language'), language);
          return res.text();
        };
        const fresh = await get(false);
        assert.deepEqual(new Set(returnPaths(fresh)), new Set([encodeURIComponent(path)]), `the fresh page's links return to ${path}`);
        if (path.includes("'")) assert.match(fresh, /it&#39;s/, 'the page escapes the address');
        // The first reused copy is rendered, the second taken from the kept one.
        assert.equal(await get(true), fresh, `${language} ${path}: the first reused copy`);
        assert.equal(await get(true), fresh, `${language} ${path}: a kept copy`);
        compared++;
      }
    }
    assert.equal(compared, 16);
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
          return { path, status: res.status, language: res.headers.get('content-language'), html: await res.text() };
        }),
      );
      const refused = refusals.filter((r) => r.status === 429);
      assert.equal(refused.length, 38, 'all but the budget of 2 are refused');
      for (const r of refused) assert.deepEqual(new Set(returnPaths(r.html)), new Set([encodeURIComponent(r.path)]), `${r.path} returns to itself`);
      assert.deepEqual(new Set(refused.map((r) => r.language)), new Set(['en', 'de']));
      // Two languages, and a wait that may tick over a second while the flood runs.
      assert.ok(rendered.length >= 2 && rendered.length <= 4, `the refusal page was rendered ${rendered.length} times for ${refused.length} refusals`);
    } finally {
      pages.render = renderPage;
    }
  });
});
