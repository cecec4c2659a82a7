// A cookie-keeping HTTP user agent on an undici Pool (keep-alive, no
// pipelining): enough of a browser to walk the login and consent pages the
// way test/helpers/browser.ts does, without fetch's per-request overhead
// weighing on the load generator.
import { createHash, randomBytes } from 'node:crypto';
import type { Dispatcher, Pool } from 'undici';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface SendOptions {
  method?: Dispatcher.HttpMethod;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Read the body as text (pages, JSON); otherwise it is drained unread. */
  read?: boolean;
}

export async function send(pool: Pool, path: string, opts: SendOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await pool.request({ path, method: opts.method ?? (opts.form ? 'POST' : 'GET'), headers, body });
  let text = '';
  if (opts.read === false) await res.body.dump();
  else text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** One person's browser: a cookie jar (by name, as the tests' browser does) over a shared pool. */
export class UserAgent {
  private readonly jar = new Map<string, string>();

  constructor(
    private readonly pool: Pool,
    private readonly origin: string,
  ) {}

  private store(headers: Reply['headers']): void {
    const raw = headers['set-cookie'];
    for (const line of raw === undefined ? [] : ([] as string[]).concat(raw)) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  clear(): void {
    this.jar.clear();
  }

  async request(pathOrUrl: string, opts: SendOptions = {}): Promise<Reply> {
    const path = pathOrUrl.startsWith('http') ? pathOnServer(pathOrUrl, this.origin) : pathOrUrl;
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await send(this.pool, path, { ...opts, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}), ...opts.headers } });
    this.store(res.headers);
    return res;
  }

  /**
   * Follows redirects while they stay on the server; stops on a page or on
   * the first redirect that leaves it (the app's redirect_uri).
   */
  async navigate(pathOrUrl: string, opts: SendOptions = {}): Promise<{ page?: Reply & { url: string }; redirect?: string }> {
    let res = await this.request(pathOrUrl, opts);
    let current = new URL(pathOrUrl, this.origin).href;
    for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(String(res.headers.location), current).href;
      if (!next.startsWith(this.origin)) return { redirect: next };
      current = next;
      res = await this.request(next);
    }
    return { page: { ...res, url: current } };
  }
}

function pathOnServer(url: string, origin: string): string {
  if (!url.startsWith(origin)) throw new Error(`refusing to leave ${origin} for ${url}`);
  const u = new URL(url);
  return u.pathname + u.search;
}

export function formAction(html: string, path: string): string | undefined {
  const m = html.match(new RegExp(`<form[^>]*action="([^"]*${path}[^"]*)"`));
  return m?.[1]?.replace(/&amp;/g, '&');
}

export function csrfToken(html: string): string | undefined {
  return html.match(/name="csrf" value="([^"]+)"/)?.[1];
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
