// Signing in to the account page and enrolling TOTP there, over HTTP.
import assert from 'node:assert/strict';
import { csrfToken, formAction, type Browser, type Page } from './browser.ts';
import { submitLogin } from './relying-party.ts';
import type { TestServer } from './server.ts';
import { totp } from './totp.ts';

export async function signInToAccount(browser: Browser, server: TestServer, email: string, password: string, code?: () => string): Promise<Page> {
  let step = await browser.navigate(`${server.url}/account`);
  let page = step as Page;
  assert.match(page.html, /action="[^"]*\/login"/, 'the account page asks to sign in first');
  step = await submitLogin(browser, page, email, password);
  page = step as Page;
  if (page.html.includes('/code"')) {
    assert.ok(code, 'a second factor was asked for');
    page = (await browser.navigate(new URL(formAction(page.html, '/code'), page.url).href, { form: { csrf: csrfToken(page.html), code: code() } })) as Page;
  }
  assert.equal(new URL(page.url).pathname, '/account', page.html.slice(0, 400));
  return page;
}

/** A CSRF token for the account's forms (from a page that has one). */
export async function accountCsrf(browser: Browser, server: TestServer): Promise<string> {
  return csrfToken(((await browser.navigate(`${server.url}/account/profile`)) as Page).html);
}

/** The pending enrolment's token, which must go back with the code. */
export const enrollmentToken = (html: string) => html.match(/name="enrollment" value="([^"]+)"/)![1]!;

/** Starts an enrolment from the account page (the password, and `code` when replacing a factor). */
export async function startEnrollment(browser: Browser, server: TestServer, password: string, code?: string): Promise<Page> {
  const confirm = (await browser.navigate(`${server.url}/account/confirm?action=${code ? 'totp-replace' : 'totp-setup'}`)) as Page;
  return (await browser.navigate(`${server.url}/account/totp/start`, { form: { csrf: csrfToken(confirm.html), password, ...(code ? { code } : {}) } })) as Page;
}

export async function enrollFromAccount(browser: Browser, server: TestServer, password: string): Promise<{ secret: string; codes: string[] }> {
  const setup = await startEnrollment(browser, server, password);
  const secret = setup.html.match(/id="totp-secret">([A-Z2-7]+)</)![1]!;
  assert.match(setup.html, /<img class="qr" src="data:image\/svg\+xml;base64,/);
  const done = (await browser.navigate(`${server.url}/account/totp`, {
    form: { csrf: csrfToken(setup.html), enrollment: enrollmentToken(setup.html), code: totp(secret, 0, server.runtime.clock.now()) },
  })) as Page;
  const codes = [...done.html.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((m) => m[1]!);
  assert.equal(codes.length, 10, 'ten recovery codes');
  return { secret, codes };
}
