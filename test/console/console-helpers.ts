// Administrators for the console's tests: people with an authenticator app
// (enrolled a step ago, so that this step's code is new to the server) and
// roles, and signing them in to /admin over HTTP with the cookie-keeping agent.
import assert from 'node:assert/strict';
import { basic } from '../helpers/api-keys.ts';
import { Browser, csrfToken, formAction, type Page } from '../helpers/browser.ts';
import { createUser, submitLogin } from '../helpers/relying-party.ts';
import type { TestServer } from '../helpers/server.ts';
import { totp } from '../helpers/totp.ts';

export interface Admin {
  id: string;
  email: string;
  password: string;
  secret: string;
}

/** A person with an authenticator app and these roles. */
export async function personWithFactor(server: TestServer, roles: string[] = [], email?: string): Promise<Admin> {
  const user = await createUser(server, email);
  const enrollment = await server.runtime.secondFactor.beginEnrollment(user.id);
  const clock = server.runtime.clock;
  const realNow = clock.now;
  const before = clock.now() - 30_000;
  clock.now = () => before;
  try {
    assert.ok(await server.runtime.secondFactor.confirmEnrollment(user.id, enrollment.token, totp(enrollment.secret, 0, before)));
  } finally {
    clock.now = realNow;
  }
  for (const role of roles) await server.runtime.users.addRole(user.id, role);
  return { id: user.id, email: user.email, password: user.password, secret: enrollment.secret };
}

/**
 * Opens /admin in `browser`: signs in (password, then the code `step` steps
 * from the server's now) when asked, and returns the page it ends on.
 */
export async function signInToConsole(browser: Browser, server: TestServer, who: Admin, step = 0, start = '/admin'): Promise<Page> {
  let page = await browser.page(start.startsWith('http') ? start : `${server.url}${start}`);
  if (/action="[^"]*\/login"/.test(page.html)) page = (await submitLogin(browser, page, who.email, who.password)) as Page;
  if (page.html.includes('/code"')) {
    const code = totp(who.secret, step, server.runtime.clock.now());
    page = await browser.page(new URL(formAction(page.html, '/code'), page.url).href, { form: { csrf: csrfToken(page.html), code } });
  }
  return page;
}

/** A fresh agent signed in to the console as `who`. */
export async function consoleAs(server: TestServer, who: Admin, step = 0): Promise<{ browser: Browser; csrf: string }> {
  const browser = new Browser(server.url);
  const page = await signInToConsole(browser, server, who, step);
  assert.equal(page.status, 200, page.html.slice(0, 300));
  return { browser, csrf: await csrfOf(browser, server) };
}

/** The CSRF token of this agent's forms (the account pages and the console share it). */
export async function csrfOf(browser: Browser, server: TestServer): Promise<string> {
  return csrfToken((await browser.page(`${server.url}/account/profile`)).html);
}

/** Every cookie of `owner` (its session, its CSRF cookie) in another agent, as someone who stole them would have them. */
export function stealCookies(server: TestServer, owner: Browser): Browser {
  const thief = new Browser(server.url);
  for (const name of owner.cookieNames()) thief.setCookie(name, owner.cookie(name)!);
  return thief;
}

/** Whether the token endpoints accept this client id and secret (a revocation of nothing: 200, or 401 invalid_client). */
export async function secretWorks(server: TestServer, clientId: string, secret: string): Promise<boolean> {
  const res = await fetch(`${server.url}/token/revocation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    body: new URLSearchParams({ token: 'nothing-at-all' }),
  });
  await res.arrayBuffer();
  return res.status === 200;
}
