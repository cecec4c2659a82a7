// The rules of signing in: password, lockout, second factor, audit. Each
// step reports what happened; the pages decide how to say it.
import { RateLimiterPrisma, RateLimiterRes } from 'rate-limiter-flexible';
import type { Db } from '../db/database.ts';
import type { AuditService, RequestMeta } from './audit.ts';
import type { LockoutPolicy, LockoutService } from './lockout.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { SecondFactorService } from './second-factor.ts';
import { normalizeEmail } from './users.ts';

export type PasswordStep =
  | { kind: 'ok'; userId: string; email: string; hasTotp: boolean }
  | { kind: 'failed' }
  | { kind: 'locked'; until: Date };

export type CodeStep = { kind: 'ok'; method: 'otp' | 'recovery' } | { kind: 'failed' } | { kind: 'locked'; until: Date };

export interface SignInDeps {
  db: Db;
  lockout: LockoutService;
  lockoutPolicy: LockoutPolicy;
  secondFactor: SecondFactorService;
  audit: AuditService;
  bcryptCost: number;
}

export function createSignInService({ db, lockout, lockoutPolicy, secondFactor, audit, bcryptCost }: SignInDeps) {
  // A miss costs the same bcrypt time as a wrong password.
  const dummyHash = hashPassword('latchkey-timing-equaliser', bcryptCost);
  // Unknown emails "lock" like real ones, so the lock message reveals nothing
  // about which emails exist. Counted in the shared database, like the rest.
  const unknownEmails = new RateLimiterPrisma({
    storeClient: db,
    tableName: 'rateLimit',
    keyPrefix: 'lockout-unknown',
    points: lockoutPolicy.threshold,
    duration: lockoutPolicy.baseSeconds,
    clearExpiredByTimeout: false,
  });

  async function fail(userId: string, meta: RequestMeta, reason: string): Promise<{ kind: 'failed' } | { kind: 'locked'; until: Date }> {
    const until = await lockout.recordFailure(userId);
    await audit.record('login_failed', { ...meta, userId }, { reason });
    if (until) {
      await audit.record('account_locked', { ...meta, userId }, { until: until.toISOString() });
      return { kind: 'locked', until };
    }
    return { kind: 'failed' };
  }

  return {
    async password(emailInput: string, password: string, meta: RequestMeta): Promise<PasswordStep> {
      const email = normalizeEmail(emailInput);
      const user = email ? await db.user.findUnique({ where: { email } }) : null;
      if (!user) {
        await verifyPassword(password, await dummyHash);
        await audit.record('login_failed', meta, { reason: 'unknown_user' });
        try {
          await unknownEmails.consume(email || '(empty)');
          return { kind: 'failed' };
        } catch (res) {
          if (res instanceof RateLimiterRes) return { kind: 'locked', until: new Date(Date.now() + res.msBeforeNext) };
          throw res;
        }
      }
      const lockedUntil = lockout.lockedUntil(user);
      if (lockedUntil) {
        await audit.record('login_failed', { ...meta, userId: user.id }, { reason: 'locked' });
        return { kind: 'locked', until: lockedUntil };
      }
      if (!(await verifyPassword(password, user.passwordHash))) return fail(user.id, meta, 'bad_password');
      if (user.disabled) {
        await audit.record('login_failed', { ...meta, userId: user.id }, { reason: 'disabled' });
        return { kind: 'failed' };
      }
      return { kind: 'ok', userId: user.id, email: user.email, hasTotp: user.totpSecretEnc !== null };
    },

    async code(userId: string, code: string, meta: RequestMeta): Promise<CodeStep> {
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user || user.disabled) return { kind: 'failed' };
      const lockedUntil = lockout.lockedUntil(user);
      if (lockedUntil) return { kind: 'locked', until: lockedUntil };
      const result = await secondFactor.verify(userId, code);
      if (!result.ok) return fail(userId, meta, 'bad_code');
      if (result.method === 'recovery') await audit.record('recovery_code_used', { ...meta, userId });
      return { kind: 'ok', method: result.method };
    },

    /** A whole sign-in succeeded: reset the counters and record it. */
    async succeeded(userId: string, meta: RequestMeta, amr: string[]): Promise<void> {
      await lockout.recordSuccess(userId);
      await audit.record('login_succeeded', { ...meta, userId }, { amr });
    },
  };
}

export type SignInService = ReturnType<typeof createSignInService>;
