// A minimal cookie-keeping user agent for driving the login and consent pages
// over HTTP (the Chromium suite does the same with a real browser).
import assert from 'node:assert/strict';

export interface Page {
  status: number;
  url: string;
  html: string;
  headers: Headers;
}

export class Browser {
  private jar = new Map<string, string>();

  private readonly origins: string[];

  /** `origin`: the server's address (several for several nodes behind one issuer). */
  constructor(origin: string | string[]) {
    this.origins = ([] as string[]).concat(origin);
  }

  cookieNames(): string[] {
    return [...this.jar.keys()];
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  /** Plants a cookie, as someone who stole it would. */
  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  clearCookies(): void {
    this.jar.clear();
  }

  private store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  private header(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        cookie: this.header(),
        accept: 'text/html',
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    this.store(res);
    return res;
  }

  /**
   * Follows redirects while they stay on the server. Returns either the page
   * it stopped on, or `{ redirect }` with the first off-server location (the
   * relying party's redirect_uri).
   */
  async navigate(url: string, init: { form?: Record<string, string> } = {}): Promise<Page | { redirect: string }> {
    let res = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get('location')!, current).href;
      if (!this.origins.some((o) => next.startsWith(o))) return { redirect: next };
      current = next;
      res = await this.request(next);
    }
    return { status: res.status, url: current, html: await res.text(), headers: res.headers };
  }

  async page(url: string, init: { form?: Record<string, string> } = {}): Promise<Page> {
    const out = await this.navigate(url, init);
    assert.ok(!('redirect' in out), `expected a page, was redirected to ${'redirect' in out ? out.redirect : ''}`);
    return out as Page;
  }

  async redirect(url: string, init: { form?: Record<string, string> } = {}): Promise<URL> {
    const out = await this.navigate(url, init);
    assert.ok('redirect' in out, `expected a redirect to the app, got a page: ${'html' in out ? out.html.slice(0, 400) : ''}`);
    return new URL(out.redirect);
  }
}

export function formAction(html: string, path: string): string {
  const m = html.match(new RegExp(`<form[^>]*action="([^"]*${path}[^"]*)"`));
  assert.ok(m, `no form posting to ${path}`);
  return m[1]!.replace(/&amp;/g, '&');
}

export function csrfToken(html: string): string {
  const m = html.match(/name="csrf" value="([^"]+)"/);
  assert.ok(m, 'no csrf field on the page');
  return m[1]!;
}

export function pageText(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}
