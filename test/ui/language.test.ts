// Which language a page and a mail are in, over HTTP against a real server:
// Accept-Language, the app's ui_locales, the switcher (GET /language, which
// only ever goes back to a path on this server), the language saved on the
// account (profile page, or chosen on the way in) and used for the person's
// mail; discovery's ui_locales_supported.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signInToAccount } from '../helpers/account.ts';
import { Browser, csrfToken, formAction, pageText, type Page } from '../helpers/browser.ts';
import { startMailCatcher, type MailCatcher } from '../helpers/mail.ts';
import { authRequest, createUser, registerClient, submitLogin, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('the language of pages and mail', () => {
  let server: TestServer;
  let mail: MailCatcher;
  let client: TestClient;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ SMTP_URL: mail.url, DEFAULT_LOCALE: 'en' });
    client = await registerClient(server, { name: 'Recipe Box' });
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers: { accept: 'text/html', ...headers } });

  it("Accept-Language picks a shipped language; the app's ui_locales comes before it; unknown ones fall back to DEFAULT_LOCALE", async () => {
    const de = await get(`${server.url}/`, { 'accept-language': 'de-CH, fr;q=0.8' });
    assert.equal(de.headers.get('content-language'), 'de');
    const html = await de.text();
    assert.match(html, /<html lang="de" dir="ltr">/);
    assert.match(pageText(html), /Willkommen/);
    const browser = new Browser(server.url);
    const login = (await browser.navigate((await authRequest(client, { ui_locales: 'pt-BR es' })).url.href)) as Page;
    assert.match(login.html, /<html lang="es"/, 'ui_locales wins over the (absent) Accept-Language');
    assert.match(pageText(login.html), /Iniciar sesión/);
    const ja = await get(`${server.url}/`, { 'accept-language': 'ja' });
    assert.equal(ja.headers.get('content-language'), 'en');
  });

  it('the switcher remembers the choice for this browser and goes back only to a path on this server', async () => {
    const browser = new Browser(server.url);
    const login = (await browser.navigate((await authRequest(client, { ui_locales: 'de' })).url.href)) as Page;
    const back = new URL(login.url).pathname;
    const french = login.html.match(/href="(\/language\?lang=fr[^"]*)"/)![1]!.replace(/&amp;/g, '&');
    const switched = (await browser.navigate(`${server.url}${french}`)) as Page;
    assert.equal(new URL(switched.url).pathname, back, 'back on the same page');
    assert.match(switched.html, /<html lang="fr"/, "the person's choice beats the app's ui_locales");
    for (const evil of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', '/%0d%0aSet-Cookie:x=y']) {
      const res = await fetch(`${server.url}/language?lang=es&return=${encodeURIComponent(evil)}`, { redirect: 'manual' });
      assert.equal(res.status, 303);
      const location = res.headers.get('location')!;
      assert.ok(
        location === '/' || (location.startsWith('/') && !location.startsWith('//') && !location.includes('\\') && !/[\r\n]/.test(location)),
        `${evil} → ${location}`,
      );
      assert.equal(new URL(location, server.url).origin, new URL(server.url).origin, `${evil} stays on this server`);
    }
  });

  it("the language saved on the profile page is the person's, for their pages and their mail", async () => {
    const person = await createUser(server, `saved-${Date.now()}@example.test`, 'a long enough passphrase', 'Lise');
    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const profile = (await browser.navigate(`${server.url}/account/profile`)) as Page;
    const saved = (await browser.navigate(`${server.url}/account/profile`, { form: { csrf: csrfToken(profile.html), name: 'Lise', language: 'de' } })) as Page;
    assert.match(pageText(saved.html), /Ihr Profil wurde gespeichert/);
    assert.equal((await server.runtime.users.get(person.id)).locale, 'de');
    const bad = (await browser.navigate(`${server.url}/account/profile`, { form: { csrf: csrfToken(profile.html), name: 'Lise', language: 'xx' } })) as Page;
    assert.equal(bad.status, 400);
    assert.match(bad.html, /id="language"[^>]*aria-describedby="language-hint language-error" aria-invalid="true"/);
    // Mail to the person: in their language, whatever the browser that asked for it.
    const other = new Browser(server.url);
    const login = (await other.navigate((await authRequest(client, { ui_locales: 'en' })).url.href)) as Page;
    const forgot = (await other.navigate(new URL(login.html.match(/href="([^"]*\/forgot)"/)![1]!, login.url).href)) as Page;
    await other.navigate(new URL(formAction(forgot.html, '/forgot'), forgot.url).href, { form: { csrf: csrfToken(forgot.html), email: person.email } });
    const [message] = await mail.waitFor(person.email);
    assert.match(message!.subject, /Setzen Sie Ihr Latchkey-Passwort zurück/);
    assert.match(message!.text, /Hallo Lise,[\s\S]*30 Minuten lang/);
    assert.match(message!.html, /<html lang="de"/);
  });

  it('a language chosen with the switcher while signing in is saved on the account', async () => {
    const person = await createUser(server, `chosen-${Date.now()}@example.test`, 'a long enough passphrase', 'Ada');
    const browser = new Browser(server.url);
    const login = (await browser.navigate((await authRequest(client)).url.href)) as Page;
    const spanish = login.html.match(/href="(\/language\?lang=es[^"]*)"/)![1]!.replace(/&amp;/g, '&');
    const page = (await browser.navigate(`${server.url}${spanish}`)) as Page;
    await submitLogin(browser, page, person.email, person.password);
    assert.equal((await server.runtime.users.get(person.id)).locale, 'es');
  });

  it('discovery lists the languages as ui_locales_supported', async () => {
    const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { ui_locales_supported: string[] };
    assert.deepEqual([...discovery.ui_locales_supported].sort(), ['de', 'en', 'es', 'fr']);
  });
});
