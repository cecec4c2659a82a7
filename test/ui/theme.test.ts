// THEME_DIR end to end: an operator's folder replaces templates, mail
// templates, assets and wording file by file on a running server, and cannot
// turn off escaping, the Content-Security-Policy or CSRF.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Browser, formAction, type Page } from '../helpers/browser.ts';
import { startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, createUser, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

function writeTheme(): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-theme-'));
  for (const sub of ['assets', 'mail', 'locales']) mkdirSync(join(dir, sub));
  const files: Record<string, string> = {
    // Only the brand block, over the built-in frame.
    'layout.njk': `{% extends "builtin/layout.njk" %}
{% block brand %}<p class="brand" data-theme="acme"><img src="/assets/wordmark.svg" alt="{{ brand.name }}" height="28"></p>{% endblock %}`,
    // A whole page replaced, and its form written without the CSRF field.
    'forgot-password.njk': `{% extends "layout.njk" %}
{% block title %}{{ t('forgot.title') }}{% endblock %}
{% block content %}<form method="post" action="/interaction/{{ uid }}/forgot" data-theme="acme-forgot">
<input type="email" name="email" id="email" aria-label="{{ t('common.email') }}"><button type="submit">{{ t('forgot.submit') }}</button></form>{% endblock %}`,
    'mail/layout.html.njk': `{% extends "builtin/layout.html.njk" %}
{% block footer %}<p data-theme="acme-mail">{{ brand.name }} mail footer</p>{% endblock %}`,
    'assets/theme.css': ':root { --acme: 1; }\n',
    'assets/wordmark.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    'assets/tracker.js': 'alert(1)',
    'locales/de.json': JSON.stringify({ landing: { title: 'Willkommen bei ACME' } }),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('a theme (THEME_DIR) on a running server', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let client: TestClient;
  let theme: string | undefined;
  before(async () => {
    mail = await startMailCatcher();
    theme = writeTheme();
    server = await startTestServer({ THEME_DIR: theme, BRAND_NAME: 'Acme & Sons "Corp"', SMTP_URL: mail.url });
    client = await registerClient(server, { name: 'Ledger' });
  });
  after(async () => {
    try {
      await server?.stop();
      await mail?.close();
    } finally {
      if (theme) rmSync(theme, { recursive: true, force: true });
    }
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });

  it("replaces a block of the frame and a shipped language's wording; the rest stays, and values stay escaped", async () => {
    const de = await get('/', { 'accept-language': 'de' });
    const html = await de.text();
    assert.match(html, /data-theme="acme"/, "the theme's brand block");
    assert.match(html, /Willkommen bei ACME/, "the theme's German title");
    assert.match(html, /lang="de"/);
    assert.match(html, /Konto/, 'the German keys the theme left alone are still there');
    assert.match(html, /alt="Acme &amp; Sons &quot;Corp&quot;"/, 'the brand name is escaped in the theme template');
    assert.ok(!html.includes('"Corp"'), 'no quote left raw to end the attribute');
    assert.match(html, /href="\/assets\/theme\.css[^"]*"/, "the theme's stylesheet is linked");
    const en = await (await get('/', { 'accept-language': 'en' })).text();
    assert.match(en, /<h1>Welcome<\/h1>|>Welcome</, 'English keeps its own wording');
  });

  it("serves the theme's assets, never its scripts, under the server's Content-Security-Policy", async () => {
    const css = await get('/assets/theme.css');
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    assert.match(await css.text(), /--acme/);
    const svg = await get('/assets/wordmark.svg');
    assert.equal(svg.status, 200);
    assert.match(svg.headers.get('content-type') ?? '', /image\/svg\+xml/);
    assert.equal((await get('/assets/tracker.js')).status, 404, "a theme's script is not served");
    const csp = (await get('/')).headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/, "the server's policy, not the theme's");
    const scripts = /script-src ([^;]*)/.exec(csp)?.[1] ?? "'none'";
    assert.ok(!/unsafe-inline|unsafe-eval|\*|https?:/.test(scripts), `no inline or foreign scripts: ${scripts}`);
  });

  it('a theme page whose form has no CSRF field: its post is refused and no mail goes out', async () => {
    await createUser(server, 'themed@example.test');
    const browser = new Browser(server.url);
    const login = (await browser.navigate((await authRequest(client)).url.href)) as Page;
    const forgot = (await browser.navigate(new URL(login.html.match(/href="([^"]*\/forgot)"/)![1]!, login.url).href)) as Page;
    assert.match(forgot.html, /data-theme="acme-forgot"/, "the theme's page");
    assert.ok(!/name="csrf"/.test(forgot.html), 'the theme left the CSRF field out');
    const posted = (await browser.navigate(new URL(formAction(forgot.html, '/forgot'), forgot.url).href, { form: { email: 'themed@example.test' } })) as Page;
    assert.ok(posted.status === 403 || posted.status === 400, `refused (${posted.status})`);
    assert.deepEqual(await mail.settle('themed@example.test', 300), [], 'no reset mail');
  });

  it("mail goes out in the theme's mail frame", async () => {
    const user = await server.runtime.users.create({ email: 'unconfirmed@example.test', password: 'a long enough passphrase' });
    assert.equal(await server.runtime.accountLinks.sendVerification(user.id, {}, 'en'), true);
    const [message] = await mail.waitFor('unconfirmed@example.test');
    assert.match(message!.html, /data-theme="acme-mail"/);
    assert.match(message!.html, /Acme &amp; Sons &quot;Corp&quot; mail footer/);
  });
});
