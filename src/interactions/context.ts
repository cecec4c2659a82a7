// What every interaction route is given, and small helpers they share.
import type { Context } from 'koa';
import type { Clock } from '../clock.ts';
import type { Csrf } from '../middleware/koa-csrf.ts';
import { hintsOf } from '../middleware/koa-language.ts';
import type { FieldError, Render } from '../middleware/koa-render.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import type { LoginResult } from '../oidc/acr.ts';
import type { InteractionApi, PendingInteraction } from '../oidc/interactions.ts';
import type { AccountLinkService } from '../services/links/account-links.ts';
import type { AuditService } from '../services/admin/audit.ts';
import type { LoginStateService } from '../services/people/login-state.ts';
import type { PasskeyService } from '../services/factors/passkeys.ts';
import type { SecondFactorService } from '../services/factors/second-factor.ts';
import type { SignInService } from '../services/people/sign-in.ts';
import type { PublicUser, UserService } from '../services/people/users.ts';
import { msg, type Message } from '../ui/catalogue.ts';

export interface PageSettings {
  registration: 'open' | 'invite' | 'off';
  requireVerifiedEmail: boolean;
  /** Mail can reach people: "Forgot your password?" and sign-up are offered. */
  mailEnabled: boolean;
  secureCookies: boolean;
}

export interface InteractionDeps {
  interactions: InteractionApi;
  users: UserService;
  signIn: SignInService;
  secondFactor: SecondFactorService;
  loginState: LoginStateService;
  audit: AuditService;
  accountLinks: AccountLinkService;
  passkeys: PasskeyService;
  settings: PageSettings;
  csrf: Csrf;
  render: Render;
  /** The language of the page being answered (for mail sent from it). */
  languageOf: (ctx: Context) => string;
  /** The language picked with the switcher in this browser, if any. */
  chosenLanguage: (ctx: Context) => string | undefined;
  /** The time the lockout rules read (src/clock.ts). */
  clock: Clock;
}

/** The interaction API, with each page of an interaction in the app's ui_locales (unless the person chose otherwise). */
export function withLanguageHints(api: InteractionApi): InteractionApi {
  return {
    ...api,
    async details(http, uid) {
      const it = await api.details(http, uid);
      hintsOf(http as Context).uiLocales = it.uiLocales;
      return it;
    },
  };
}

/** Where the app's logo may be loaded from (the page's Content-Security-Policy). */
export function imageOrigins(it: PendingInteraction): string[] {
  return it.app.logoUri ? [new URL(it.app.logoUri).origin] : [];
}

/** Says that the account is locked (for how many minutes from `now`, on the runtime's clock), never whether the password was right. */
export function lockedMessage(until: Date, now: number): Message {
  return msg('common.locked', { count: Math.max(1, Math.ceil((until.getTime() - now) / 60_000)) });
}

/** The person this page is for is known: their saved language applies (after the switcher's and the app's). */
export function pageFor(ctx: Context, user: Pick<PublicUser, 'locale'>): void {
  hintsOf(ctx).savedLocale = user.locale;
}

/** A form problem tied to its field (the input's id), or to the whole form. */
export const fieldError = (field: string | undefined, message: Message): FieldError[] => [{ ...(field ? { field } : {}), message }];

export function redirectTo(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}

export const field = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)[name] ?? '');

export const signUpOpen = (deps: InteractionDeps) => deps.settings.registration === 'open' && deps.settings.mailEnabled;

/** The sign-in page, with a passkey ceremony ready for this interaction. */
export async function renderLogin(
  deps: InteractionDeps,
  ctx: Context,
  it: PendingInteraction,
  opts: { email?: string; error?: Message; notice?: Message; status?: number } = {},
) {
  const options = await deps.passkeys.authenticationOptions('login', it.uid);
  deps.render(
    ctx,
    'login',
    {
      uid: it.uid,
      csrf: deps.csrf.token(ctx),
      app: it.app,
      imageOrigins: imageOrigins(it),
      email: opts.email ?? '',
      errors: opts.error ? fieldError('password', opts.error) : undefined,
      notice: opts.notice,
      signUp: signUpOpen(deps),
      forgot: deps.settings.mailEnabled,
      passkey: true,
      passkeyOptions: JSON.stringify(options),
    },
    opts.status,
  );
}

/**
 * Renders the second-factor step the person is at: a code or a passkey, or
 * setting up an authenticator. `enrollmentToken` (from the enrolment form)
 * shows the same pending secret again after a wrong code; without it a new
 * enrolment starts.
 */
export async function renderSecondFactor(
  deps: InteractionDeps,
  ctx: Context,
  it: PendingInteraction,
  accountId: string,
  opts: { error?: Message; status?: number; enrollmentToken?: string } = {},
) {
  pageFor(ctx, await deps.users.get(accountId));
  const common = {
    uid: it.uid,
    csrf: deps.csrf.token(ctx),
    app: it.app,
    imageOrigins: imageOrigins(it),
    errors: opts.error ? fieldError('code', opts.error) : undefined,
  };
  if (await deps.users.hasSecondFactor(accountId)) {
    const [hasTotp, passkeys] = await Promise.all([deps.users.hasTotp(accountId), deps.passkeys.count(accountId)]);
    const options = passkeys ? await deps.passkeys.authenticationOptions('second-step', it.uid, accountId) : undefined;
    return deps.render(ctx, 'code', { ...common, hasTotp, passkey: Boolean(options), passkeyOptions: options && JSON.stringify(options) }, opts.status);
  }
  const enrollment =
    (opts.enrollmentToken ? await deps.secondFactor.pendingEnrollment(accountId, opts.enrollmentToken) : undefined) ??
    (await deps.secondFactor.beginEnrollment(accountId));
  return deps.render(ctx, 'enroll', { ...common, enrollment, action: `/interaction/${it.uid}/enroll`, required: true }, opts.status);
}

/**
 * Every factor was given: the sign-in completes — unless the person must
 * confirm their address first (REQUIRE_VERIFIED_EMAIL), in which case a link
 * is sent and the sign-in waits for it (src/interactions/show.ts finishes it).
 */
export async function completeSignIn(deps: InteractionDeps, ctx: Context, it: PendingInteraction, result: LoginResult) {
  const meta = requestMeta(ctx, it.clientId);
  const user = await deps.users.get(result.accountId);
  // A language picked with the switcher on the way in is the person's from now on (their pages and mail).
  const chosen = deps.chosenLanguage(ctx);
  if (chosen && chosen !== user.locale) await deps.users.setLocale(user.id, chosen);
  if (deps.settings.requireVerifiedEmail && !user.emailVerified) {
    const state = await deps.loginState.get(it.uid);
    await deps.loginState.save(it.uid, { accountId: result.accountId, pending: result });
    // Once per sign-in; the page offers to send another.
    if (!state?.pending) await deps.accountLinks.sendVerification(result.accountId, meta, deps.languageOf(ctx));
    return redirectTo(ctx, `/interaction/${it.uid}`);
  }
  await deps.loginState.clear(it.uid);
  await deps.signIn.succeeded(result.accountId, meta, result.amr);
  redirectTo(ctx, await deps.interactions.finishLogin(ctx, result));
}

// The sign-in a person left to open a link from their mail, in this browser:
// after confirming or resetting they are offered to go back to it.
const RETURN_COOKIE = 'lk_return';

export function rememberReturn(deps: InteractionDeps, ctx: Context, uid: string): void {
  ctx.cookies.set(RETURN_COOKIE, uid, {
    httpOnly: true,
    sameSite: 'lax',
    secure: deps.settings.secureCookies,
    signed: true,
    path: '/',
    maxAge: 3600_000,
    overwrite: true,
  });
}

/** Where "Continue" goes after a link's page: back to that sign-in if it is still open, else the account page. */
export async function continueUrl(deps: InteractionDeps, ctx: Context, notice: string): Promise<string> {
  const uid = ctx.cookies.get(RETURN_COOKIE, { signed: true });
  if (uid && /^[A-Za-z0-9_-]{10,64}$/.test(uid) && (await deps.interactions.exists(uid))) return `/interaction/${uid}/signin?notice=${notice}`;
  return '/account';
}

/** A link that cannot be used: its page says why, and offers the landing page. */
export function renderLinkRefused(deps: InteractionDeps, ctx: Context, reason: string, heading = msg('linkDone.refused')) {
  deps.render(
    ctx,
    'error',
    { heading, message: linkProblem(reason), code: `link_${reason}`, back: { href: '/', label: msg('common.backToStart') } },
    linkStatus(reason),
  );
}

/** A refused link's status: a conflict with an existing account, accounts no longer created here, or a bad link. */
export const linkStatus = (reason: string) => (reason === 'exists' ? 409 : reason === 'closed' ? 403 : 400);

/** A link page's refusal, in words. */
export function linkProblem(reason: string): Message {
  return msg(['expired', 'used', 'exists', 'closed'].includes(reason) ? `link.${reason}` : 'link.invalid');
}
