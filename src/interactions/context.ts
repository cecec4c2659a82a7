// What every interaction route is given, and small helpers they share.
import type { Context } from 'koa';
import type { Csrf } from '../middleware/koa-csrf.ts';
import type { Render } from '../middleware/koa-render.ts';
import type { InteractionApi, PendingInteraction } from '../oidc/interactions.ts';
import type { AuditService } from '../services/audit.ts';
import type { LoginStateService } from '../services/login-state.ts';
import type { SecondFactorService } from '../services/second-factor.ts';
import type { SignInService } from '../services/sign-in.ts';
import type { UserService } from '../services/users.ts';

export interface InteractionDeps {
  interactions: InteractionApi;
  users: UserService;
  signIn: SignInService;
  secondFactor: SecondFactorService;
  loginState: LoginStateService;
  audit: AuditService;
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

/**
 * Renders the second-factor step the person is at: a code, or setting one up.
 * `enrollmentToken` (from the enrolment form) shows the same pending secret
 * again after a wrong code; without it a new enrolment starts.
 */
export async function renderSecondFactor(
  deps: InteractionDeps,
  ctx: Context,
  it: PendingInteraction,
  accountId: string,
  opts: { error?: string; status?: number; enrollmentToken?: string } = {},
) {
  const common = { uid: it.uid, csrf: deps.csrf.token(ctx), clientName: it.clientName, error: opts.error };
  if (await deps.users.hasSecondFactor(accountId)) return deps.render(ctx, 'code', common, opts.status);
  const enrollment = (opts.enrollmentToken ? await deps.secondFactor.pendingEnrollment(accountId, opts.enrollmentToken) : undefined)
    ?? (await deps.secondFactor.beginEnrollment(accountId));
  return deps.render(ctx, 'enroll', { ...common, enrollment, action: `/interaction/${it.uid}/enroll`, required: true }, opts.status);
}
