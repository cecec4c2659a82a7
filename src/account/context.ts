// What the account routes are given, the signed-in guard they share, and
// how an account page is rendered (its section navigation, notice, errors).
import type { Context, Next } from 'koa';
import type { Clock } from '../clock.ts';
import type { Csrf } from '../middleware/koa-csrf.ts';
import { hintsOf } from '../middleware/koa-language.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import type { FieldError, PageVars, Render } from '../middleware/koa-render.ts';
import type { AccountSessions } from '../oidc/account-session.ts';
import type { AccountLinkService } from '../services/links/account-links.ts';
import type { AuditService, RequestMeta } from '../services/admin/audit.ts';
import type { PasskeyService } from '../services/factors/passkeys.ts';
import type { ApiKeyService } from '../services/api-keys/api-keys.ts';
import type { SecondFactorService } from '../services/factors/second-factor.ts';
import type { SignInService } from '../services/people/sign-in.ts';
import type { PublicUser, UserService } from '../services/people/users.ts';
import { msg, type Language, type Message } from '../ui/catalogue.ts';

export interface AccountDeps {
  sessions: AccountSessions;
  users: UserService;
  signIn: SignInService;
  secondFactor: SecondFactorService;
  audit: AuditService;
  passkeys: PasskeyService;
  accountLinks: AccountLinkService;
  settings: { registration: 'open' | 'invite' | 'off'; mailEnabled: boolean };
  apiKeys: ApiKeyService;
  csrf: Csrf;
  render: Render;
  /** The languages a person may choose for their pages and mail. */
  languages: readonly Language[];
  languageOf: (ctx: Context) => string;
  /** A message as plain text in the page's language (a default a form suggests). */
  say: (ctx: Context, message: Message) => string;
  /** The time key expiries and lockout messages are read against (src/clock.ts). */
  clock: Clock;
}

export interface AccountState {
  accountId: string;
  user: PublicUser;
  /** What this browser's session is stored under (the Sessions page marks it). */
  sessionId: string;
}

/**
 * Everything under /account needs a signed-in person whose account is still
 * enabled; pages send others to sign in. A session of a person who was
 * disabled meanwhile is ended here.
 */
export function requireSignedIn({ sessions, users }: AccountDeps) {
  return async (ctx: Context, next: Next) => {
    let session = await sessions.current(ctx, { touch: ctx.method === 'GET' });
    const user = session ? await users.findActive(session.accountId) : undefined;
    if (session && !user) {
      await sessions.endAllSessions(session.accountId);
      session = undefined;
    }
    if (!session || !user) {
      ctx.status = 303;
      return ctx.redirect(ctx.method === 'GET' ? sessions.loginUrl() : '/account');
    }
    ctx.state.account = { accountId: session.accountId, user, sessionId: session.id } satisfies AccountState;
    hintsOf(ctx).savedLocale = user.locale;
    await next();
  };
}

export const accountOf = (ctx: Context) => (ctx.state.account as AccountState).accountId;
export const userOf = (ctx: Context) => (ctx.state.account as AccountState).user;

export const field = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)[name] ?? '');

export function meta(ctx: Context): RequestMeta & { userId: string } {
  return { ...requestMeta(ctx), userId: accountOf(ctx) };
}

export type Section = 'overview' | 'profile' | 'methods' | 'apps' | 'keys' | 'sessions';

export const SECTION_PATHS: Record<Section, string> = {
  overview: '/account',
  profile: '/account/profile',
  methods: '/account/sign-in-methods',
  apps: '/account/apps',
  keys: '/account/api-keys',
  sessions: '/account/sessions',
};

/** After a change: back to the section's page, which says what was done. */
export function backWith(ctx: Context, section: Section, notice: string): void {
  ctx.status = 303;
  ctx.redirect(`${SECTION_PATHS[section]}?notice=${encodeURIComponent(notice)}`);
}

// ?notice= codes, and what each page then says.
const NOTICES: Record<string, string> = {
  password: 'methods.passwordChanged',
  'mfa-removed': 'methods.totpRemoved',
  'passkey-added': 'methods.passkeyAddedNotice',
  'passkey-removed': 'methods.passkeyRemovedNotice',
  'app-revoked': 'apps.revoked',
  'verification-sent': 'profile.verificationSent',
  'profile-saved': 'profile.saved',
  'api-key-revoked': 'keys.revoked',
  'session-ended': 'sessions.ended',
};

/** A person may see the API keys section: they may make keys, or have some. */
export async function keysSectionShown(deps: AccountDeps, accountId: string): Promise<{ canCreate: boolean; shown: boolean }> {
  const canCreate = (await deps.apiKeys.holdableScopes(accountId)).length > 0;
  return { canCreate, shown: canCreate || (await deps.apiKeys.page({ owner: { userId: accountId }, limit: 1 })).items.length > 0 };
}

/** Renders an account page: the person, the section navigation, a notice after a change, the errors of a failed post. */
export async function renderAccount(deps: AccountDeps, ctx: Context, template: string, section: Section, vars: PageVars = {}, status?: number) {
  const notice = NOTICES[String(ctx.query.notice ?? '')];
  const keys = (vars.nav as { apiKeys: boolean } | undefined) ?? { apiKeys: (await keysSectionShown(deps, accountOf(ctx))).shown };
  deps.render(
    ctx,
    `account/${template}`,
    {
      section,
      user: userOf(ctx),
      csrf: deps.csrf.token(ctx),
      notice: notice ? msg(notice) : undefined,
      errors: ctx.state.errors as FieldError[] | undefined,
      returnTo: SECTION_PATHS[section],
      ...vars,
      nav: keys,
    },
    status ?? (ctx.status !== 404 ? ctx.status : undefined),
  );
}

/** A failed post: these errors on the page that is rendered next, with this status. */
export function failWith(ctx: Context, errors: FieldError[], status = 400): void {
  ctx.state.errors = errors;
  ctx.status = status;
}
