// The sign-up form as a person reaches and sends it, for the sign-up tests.
import assert from 'node:assert/strict';
import { csrfToken, formAction, type Browser, type Page } from './browser.ts';
import { authRequest, type TestClient } from './relying-party.ts';

/** The sign-up page, reached from an app's sign-in page as a person would. */
export async function signUpPage(browser: Browser, client: TestClient, params: Record<string, string> = {}) {
  const req = await authRequest(client, params);
  const login = (await browser.navigate(req.url.href)) as Page;
  const href = login.html.match(/href="([^"]*\/signup)"/);
  assert.ok(href, 'the sign-in page links to sign-up');
  return { req, page: (await browser.navigate(new URL(href[1]!, login.url).href)) as Page };
}

/** The sign-up form: an address and a name (extra fields are what a script of the old form would still send). */
export function submitSignUp(browser: Browser, page: Page, form: { email: string; name?: string } & Record<string, string>) {
  return browser.navigate(new URL(formAction(page.html, '/signup'), page.url).href, {
    form: { csrf: csrfToken(page.html), ...form, name: form.name ?? '' },
  }) as Promise<Page>;
}
