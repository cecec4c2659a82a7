// The rules of proving who you are: passwords and second-factor codes, at
// sign-in and when the account page asks again. Every check goes through the
// same lockout (reserved before the check, src/services/people/lockout.ts) and the
// same audit trail. Each step reports what happened; the pages decide how to
// say it.
//
// Registered and unknown emails, locked or not, right or wrong: every
// password answer costs one bcrypt comparison and the same statements, so
// neither the text, the status, the lock length nor the timing tells an
// attacker whether an email is registered.
import type { Db } from '../../db/database.ts';
import type { AuditService, RequestMeta } from '../admin/audit.ts';
import type { LockoutService } from './lockout.ts';
import { timingEqualiserHash, verifyPassword } from './passwords.ts';
import type { SecondFactorService } from '../factors/second-factor.ts';
import { normalizeEmail } from './users.ts';

export type SecondFactorMethod = 'otp' | 'recovery_code';

export type PasswordStep = { kind: 'ok'; userId: string; email: string; hasTotp: boolean } | { kind: 'failed' } | { kind: 'locked'; until: Date };

export type CodeStep = { kind: 'ok'; method: SecondFactorMethod } | { kind: 'failed' } | { kind: 'locked'; until: Date };

export type Reauthentication = { kind: 'ok'; method?: SecondFactorMethod } | { kind: 'failed'; reason: 'password' | 'code' } | { kind: 'locked'; until: Date };

export interface SignInDeps {
  db: Db;
  lockout: LockoutService;
  secondFactor: SecondFactorService;
  audit: AuditService;
  bcryptCost: number;
}

export function createSignInService({ db, lockout, secondFactor, audit, bcryptCost }: SignInDeps) {
  // What a missing or locked account is compared against, so it costs the same
  // bcrypt time. Made up, not hashed: starting a hash here would cost every
  // process that opens the runtime (each CLI command) a password thread.
  const dummyHash = timingEqualiserHash(bcryptCost);

  async function refuse(key: string, meta: RequestMeta & { userId?: string }, type: 'login_failed' | 'reauth_failed', reason: string) {
    const until = await lockout.failed(key);
    await audit.record(type, meta, { reason });
    if (until) {
      if (meta.userId) await audit.record('account_locked', meta, { until: until.toISOString() });
      return { kind: 'locked' as const, until };
    }
    return { kind: 'failed' as const };
  }

  async function activeUser(userId: string) {
    const user = await db.user.findUnique({ where: { id: userId } });
    return user && !user.disabled ? user : undefined;
  }

  /** Checks a code for a person whose attempt is already reserved. */
  async function checkCode(userId: string, code: string): Promise<SecondFactorMethod | undefined> {
    const result = await secondFactor.verify(userId, code);
    if (!result.ok) return undefined;
    return result.method === 'recovery' ? 'recovery_code' : 'otp';
  }

  return {
    async password(emailInput: string, password: string, meta: RequestMeta): Promise<PasswordStep> {
      const email = normalizeEmail(emailInput);
      const key = lockout.keyFor(email);
      const [user, reservation] = await Promise.all([email ? db.user.findUnique({ where: { email } }) : null, lockout.reserve(key)]);
      const who = { ...meta, ...(user ? { userId: user.id } : {}) };
      if (!reservation.ok) {
        await verifyPassword(password, dummyHash);
        await audit.record('login_failed', who, { reason: 'locked' });
        return { kind: 'locked', until: reservation.until };
      }
      const right = await verifyPassword(password, user?.passwordHash ?? dummyHash);
      if (!user || !right || user.disabled) {
        return refuse(key, who, 'login_failed', !user ? 'unknown_user' : !right ? 'bad_password' : 'disabled');
      }
      // A lock set by other attempts while this one was being checked wins.
      const released = await lockout.release(key);
      if (!released.ok) {
        await audit.record('login_failed', who, { reason: 'locked' });
        return { kind: 'locked', until: released.until };
      }
      return { kind: 'ok', userId: user.id, email: user.email, hasTotp: user.totpSecretEnc !== null };
    },

    async code(userId: string, code: string, meta: RequestMeta): Promise<CodeStep> {
      const user = await activeUser(userId);
      if (!user) return { kind: 'failed' };
      const key = lockout.keyFor(user.email);
      const who = { ...meta, userId };
      const reservation = await lockout.reserve(key);
      if (!reservation.ok) {
        await audit.record('login_failed', who, { reason: 'locked' });
        return { kind: 'locked', until: reservation.until };
      }
      const method = await checkCode(userId, code);
      if (!method) return refuse(key, who, 'login_failed', 'bad_code');
      const released = await lockout.release(key);
      if (!released.ok) return { kind: 'locked', until: released.until };
      if (method === 'recovery_code') await audit.record('recovery_code_used', who);
      return { kind: 'ok', method };
    },

    /**
     * The account page asks again before a sensitive change: the password,
     * and the current second factor when the person has one (unless
     * `passwordOnly`, for changing the password itself). Same lockout, same
     * audit as signing in.
     */
    async reauthenticate(
      userId: string,
      creds: { password: string; code?: string },
      meta: RequestMeta,
      opts: { passwordOnly?: boolean } = {},
    ): Promise<Reauthentication> {
      const user = await activeUser(userId);
      if (!user) return { kind: 'failed', reason: 'password' };
      const key = lockout.keyFor(user.email);
      const who = { ...meta, userId };
      const reservation = await lockout.reserve(key);
      if (!reservation.ok) {
        await verifyPassword(creds.password, dummyHash);
        await audit.record('reauth_failed', who, { reason: 'locked' });
        return { kind: 'locked', until: reservation.until };
      }
      if (!(await verifyPassword(creds.password, user.passwordHash))) {
        const out = await refuse(key, who, 'reauth_failed', 'bad_password');
        return out.kind === 'locked' ? out : { kind: 'failed', reason: 'password' };
      }
      let method: SecondFactorMethod | undefined;
      if (user.totpSecretEnc && !opts.passwordOnly) {
        method = await checkCode(userId, creds.code ?? '');
        if (!method) {
          const out = await refuse(key, who, 'reauth_failed', 'bad_code');
          return out.kind === 'locked' ? out : { kind: 'failed', reason: 'code' };
        }
        if (method === 'recovery_code') await audit.record('recovery_code_used', who);
      }
      const released = await lockout.release(key);
      if (!released.ok) return { kind: 'locked', until: released.until };
      // Only a proof of everything the person has clears the failures: a
      // password alone must not wipe the failed codes counted before it.
      if (method || !user.totpSecretEnc) await lockout.reset(key);
      return { kind: 'ok', method };
    },

    /** A whole sign-in succeeded: reset the counters (unless locked meanwhile) and record it. */
    async succeeded(userId: string, meta: RequestMeta, amr: string[]): Promise<void> {
      const user = await db.user.findUnique({ where: { id: userId }, select: { email: true } });
      if (user) await lockout.reset(lockout.keyFor(user.email));
      await audit.record('login_succeeded', { ...meta, userId }, { amr });
    },
  };
}

export type SignInService = ReturnType<typeof createSignInService>;
