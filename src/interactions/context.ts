// What every interaction route is given, and small helpers they share.
import type { Context } from 'koa';
import type { Csrf } from '../middleware/koa-csrf.ts';
import type { Render } from '../middleware/koa-render.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import type { LoginResult } from '../oidc/acr.ts';
import type { InteractionApi, PendingInteraction } from '../oidc/interactions.ts';
import type { AccountLinkService } from '../services/links/account-links.ts';
import type { AuditService } from '../services/admin/audit.ts';
import type { LoginStateService } from '../services/people/login-state.ts';
import type { PasskeyService } from '../services/factors/passkeys.ts';
import type { SecondFactorService } from '../services/factors/second-factor.ts';
import type { SignInService } from '../services/people/sign-in.ts';
import type { UserService } from '../services/people/users.ts';

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
}

/** Says that the account is locked, never whether the password was right. */
export function lockedMessage(until: Date): string {
  const minutes = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 60_000));
  return `This account is temporarily locked after too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

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
  opts: { email?: string; error?: string; notice?: string; status?: number } = {},
) {
  const options = await deps.passkeys.authenticationOptions('login', it.uid);
  deps.render(
    ctx,
    'login',
    {
      uid: it.uid,
      csrf: deps.csrf.token(ctx),
      clientName: it.clientName,
      email: opts.email ?? '',
      error: opts.error,
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
  opts: { error?: string; status?: number; enrollmentToken?: string } = {},
) {
  const common = { uid: it.uid, csrf: deps.csrf.token(ctx), clientName: it.clientName, error: opts.error };
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
  if (deps.settings.requireVerifiedEmail && !(await deps.users.get(result.accountId)).emailVerified) {
    const state = await deps.loginState.get(it.uid);
    await deps.loginState.save(it.uid, { accountId: result.accountId, pending: result });
    // Once per sign-in; the page offers to send another.
    if (!state?.pending) await deps.accountLinks.sendVerification(result.accountId, meta);
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

/** A link that cannot be used: its page says why. */
export function renderLinkRefused(deps: InteractionDeps, ctx: Context, reason: string, heading = 'This link cannot be used') {
  deps.render(ctx, 'error', { heading, message: linkProblem(reason), code: `link_${reason}` }, linkStatus(reason));
}

/** A refused link's status: a conflict with an existing account, accounts no longer created here, or a bad link. */
export const linkStatus = (reason: string) => (reason === 'exists' ? 409 : reason === 'closed' ? 403 : 400);

/** A link page's refusal, in words. */
export function linkProblem(reason: string): string {
  switch (reason) {
    case 'expired':
      return 'This link has expired. Ask for a new one.';
    case 'used':
      return 'This link was already used. Each link works once.';
    case 'exists':
      return 'This email address already has an account. Sign in, or reset your password if you have forgotten it.';
    case 'closed':
      return 'New accounts cannot be created here any more, so this link no longer works. If you still need an account, ask the people who run this service.';
    default:
      return 'This link is not valid. Check that you opened all of it, or ask for a new one.';
  }
}
