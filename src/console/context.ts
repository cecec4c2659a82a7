// What the admin console's pages are given, who may open them, and how one is
// rendered. The console is a thin caller of the administration service
// (src/services/admin/administration.ts), like the admin API and the CLI: it
// never reaches the database, and every change it makes is audited there with
// the actor `person:<id>`.
//
// Who may do what (docs/operating.md, "Admin console"):
//   - a person holding ADMIN_ROLE uses it in full, AUDITOR_ROLE reads it;
//     anyone else gets 403 on every route (test/console/console-access.test.ts
//     enumerates CONSOLE_ROUTES);
//   - every page needs a sign-in with a second factor (acr two-factor):
//     an administrator without one is sent to sign in with one, which sets it up;
//   - a change needs that sign-in to be at most ADMIN_REAUTH minutes old:
//     a session cookie alone (a shared computer, a stolen cookie) changes nothing.
import type { Context, Next } from 'koa';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { EffectiveSetting } from '../config/env.ts';
import type { Csrf } from '../middleware/koa-csrf.ts';
import { hintsOf } from '../middleware/koa-language.ts';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import type { FieldError, PageVars, Render } from '../middleware/koa-render.ts';
import { ACR_MFA } from '../oidc/acr.ts';
import type { AccountSessions } from '../oidc/account-session.ts';
import type { Administration } from '../services/admin/administration.ts';
import type { Actor, RequestMeta } from '../services/admin/audit.ts';
import type { PublicUser, UserService } from '../services/people/users.ts';
import { msg, type Message } from '../ui/catalogue.ts';

export interface ConsoleSettings {
  adminRole: string;
  auditorRole: string;
  /** A change needs a second factor used at most this many seconds ago (ADMIN_REAUTH). */
  reauthSeconds: number;
}

/** Who is signed in, and where to send them to sign in: the issuer's SSO session under /admin, or the console listener's own (src/oidc/console-session.ts). */
export interface ConsoleSignIn {
  current: AccountSessions['current'];
  loginUrl(extra: { prompt?: 'create' | 'login'; acr_values?: string; back?: '/account' | '/admin' }, ctx: Context): string;
}

export interface ConsoleDeps {
  admin: Administration;
  sessions: ConsoleSignIn;
  /** The account page (a path under /admin, the issuer's URL on the console's own listener). */
  accountUrl: string;
  users: Pick<UserService, 'findActive' | 'roles'>;
  clock: Clock;
  settings: ConsoleSettings;
  /** Seconds a rotated-in signing key is published before it signs (KEY_ROTATION_DELAY), for the rotation page to say. */
  keyRotationDelay: number;
  /** Every setting as it took effect (src/config/env.ts), for the Settings page. */
  effectiveSettings: readonly EffectiveSetting[];
  csrf: Csrf;
  render: Render;
}

/** What a route needs: a console role only (the re-authentication page), reading, or changing. */
export type Access = 'role' | 'read' | 'change';

export interface ConsoleState {
  user: PublicUser;
  role: 'admin' | 'auditor';
  sessionId: string;
}

export const consoleOf = (ctx: Context) => ctx.state.console as ConsoleState;

/** The audit trail's actor of a change made through the console. */
export const actorOf = (ctx: Context): Actor => ({ kind: 'person', userId: consoleOf(ctx).user.id });

export const metaOf = (ctx: Context): RequestMeta => requestMeta(ctx);

export const REAUTH_PATH = '/admin/reauthenticate';

function refuse(deps: ConsoleDeps, ctx: Context, message: Message): void {
  deps.render(ctx, 'error', { message, code: 'forbidden', back: { href: deps.accountUrl, label: msg('common.backToAccount') } }, 403);
}

/**
 * The guard in front of every console route (src/console/routes.ts puts it
 * there for each entry of CONSOLE_ROUTES): signed in, enabled, holding a
 * console role, signed in with a second factor, and — for a change — recently.
 */
export function consoleGuard(deps: ConsoleDeps, access: Access) {
  return async (ctx: Context, next: Next) => {
    const session = await deps.sessions.current(ctx, { touch: ctx.method === 'GET' });
    const user = session ? await deps.users.findActive(session.accountId) : undefined;
    if (!session || !user) {
      ctx.status = 303;
      return ctx.redirect(ctx.method === 'GET' ? deps.sessions.loginUrl({ acr_values: ACR_MFA, back: '/admin' }, ctx) : '/admin');
    }
    hintsOf(ctx).savedLocale = user.locale;
    const roles = await deps.users.roles(user.id);
    const role = roles.includes(deps.settings.adminRole) ? 'admin' : roles.includes(deps.settings.auditorRole) ? 'auditor' : undefined;
    if (!role) return refuse(deps, ctx, msg('console.forbidden'));
    if (access === 'change' && role !== 'admin') return refuse(deps, ctx, msg('console.readOnly'));
    if (access !== 'role') {
      const twoFactor = session.acr === ACR_MFA;
      const ageSeconds = (deps.clock.now() - (session.loginTs ?? 0) * 1000) / 1000;
      if (!twoFactor || (access === 'change' && ageSeconds > deps.settings.reauthSeconds)) {
        ctx.status = 303;
        return ctx.redirect(`${REAUTH_PATH}?why=${twoFactor ? 'old' : 'factor'}`);
      }
    }
    ctx.state.console = { user, role, sessionId: session.id } satisfies ConsoleState;
    await next();
  };
}

export type Section = 'overview' | 'people' | 'apps' | 'apis' | 'serviceAccounts' | 'apiKeys' | 'keys' | 'audit' | 'settings';

// ?notice= codes, and what each page then says.
const NOTICES: Record<string, string> = {
  disabled: 'console.person.disabledNotice',
  enabled: 'console.person.enabledNotice',
  'session-ended': 'console.person.sessionEndedNotice',
  'sessions-ended': 'console.person.sessionsEndedNotice',
  'role-added': 'console.person.roleAddedNotice',
  'role-removed': 'console.person.roleRemovedNotice',
  'role-unchanged': 'console.person.roleUnchangedNotice',
  'key-revoked': 'console.person.keyRevokedNotice',
  'factor-reset': 'console.person.factorResetNotice',
  'app-revoked': 'console.person.appRevokedNotice',
  'app-saved': 'console.apps.savedNotice',
  'app-deleted': 'console.apps.deletedNotice',
  'signing-key-rotated': 'console.signingKeys.rotatedNotice',
  'api-created': 'console.apis.createdNotice',
  'api-saved': 'console.apis.savedNotice',
  'introspector-added': 'console.apis.introspectorAddedNotice',
  'introspector-removed': 'console.apis.introspectorRemovedNotice',
  'introspector-unchanged': 'console.apis.introspectorUnchangedNotice',
  'service-account-saved': 'console.serviceAccounts.savedNotice',
  'service-account-disabled': 'console.serviceAccounts.disabledNotice',
  'service-account-enabled': 'console.serviceAccounts.enabledNotice',
  'key-added': 'console.serviceAccounts.keyAddedNotice',
  'key-expired': 'console.serviceAccounts.keyExpiredNotice',
  'key-removed': 'console.serviceAccounts.keyRemovedNotice',
};

/** After a change: back to a console page (a path of ours), which says what was done. */
export function backWith(ctx: Context, path: string, notice: keyof typeof NOTICES | string): void {
  ctx.status = 303;
  ctx.redirect(`${path}${path.includes('?') ? '&' : '?'}notice=${encodeURIComponent(notice)}`);
}

/** A console path from a form's `back` field, or `fallback`: only our own /admin pages. */
export function backPath(ctx: Context, fallback: string): string {
  const back = String((ctx.request.body as Record<string, unknown> | undefined)?.back ?? '');
  return /^\/admin(\/[A-Za-z0-9_\-/.%]*)?$/.test(back) ? back : fallback;
}

/** Renders a console page: who is signed in and as what, the navigation, a notice after a change, the errors of a failed post. */
export function renderConsole(deps: ConsoleDeps, ctx: Context, template: string, section: Section, vars: PageVars = {}, status?: number): void {
  const { user, role } = consoleOf(ctx);
  const notice = NOTICES[String(ctx.query.notice ?? '')];
  deps.render(
    ctx,
    `console/${template}`,
    {
      section,
      me: user,
      role,
      canChange: role === 'admin',
      accountUrl: deps.accountUrl,
      csrf: deps.csrf.token(ctx),
      notice: notice ? msg(notice) : undefined,
      errors: ctx.state.errors as FieldError[] | undefined,
      ...vars,
    },
    status,
  );
}

/** A query parameter as one string ('' when absent or repeated). */
/**
 * The page at `cursor`. A cursor the service refuses (tampered with, or from
 * another list) gives the first page, and `errors` says so.
 */
export async function pageAt<T>(at: (cursor: string | undefined) => Promise<T>, cursor: string | undefined, errors: FieldError[]): Promise<T> {
  try {
    return await at(cursor);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    errors.push({ message: msg('console.badCursor') });
    return at(undefined);
  }
}

export const queryOf = (ctx: Context, name: string): string => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : '');
