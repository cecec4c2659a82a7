// The rules of proving who you are: passwords and second-factor codes, at
// sign-in and when the account page asks again. Every check goes through the
// same lockout (reserved before the check, src/services/people/lockout.ts) and the
// same audit trail. Each step reports what happened; the pages decide how to
// say it.
//
// Registered and unknown emails, locked or not, right or wrong, Latchkey's
// bcrypt or a hash imported from another product: every password answer
// costs one comparison on a password thread, the same statements and, while
// imported hashes exist, the same time (src/services/people/password-verifier.ts),
// so neither the text, the status, the lock length nor the timing tells an
// attacker whether an email is registered or how its password is stored.
//
// An imported hash (or a bcrypt of another cost) is replaced by Latchkey's
// bcrypt at the configured cost at the person's first successful password
// check, with its audit record in the same transaction.
import type { Db } from '../../db/database.ts';
import { auditRow, type AuditService, type RequestMeta } from '../admin/audit.ts';
import type { LockoutService } from './lockout.ts';
import { hashPassword, MAX_PASSWORD_BYTES } from './passwords.ts';
import type { PasswordVerifier } from './password-verifier.ts';
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
  passwords: PasswordVerifier;
  log?: { warn(obj: object, msg: string): void };
}

export function createSignInService({ db, lockout, secondFactor, audit, bcryptCost, passwords, log }: SignInDeps) {
  const stored = (user: { passwordHash: string; passwordScheme: string | null }) => ({ hash: user.passwordHash, scheme: user.passwordScheme });

  /**
   * The password just proved right, hashed with Latchkey's bcrypt, replaces the
   * stored hash if it is still the one that was checked (a password changed
   * meanwhile wins), with its audit record in the same transaction. A password
   * longer than bcrypt reads (72 bytes) keeps its imported hash: bcrypt would
   * silently ignore the rest. A failure here never fails the sign-in.
   */
  async function rehash(user: { id: string; passwordHash: string; passwordScheme: string | null }, password: string, meta: RequestMeta) {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return;
    try {
      const passwordHash = await hashPassword(password, bcryptCost);
      const from = user.passwordScheme ?? user.passwordHash.slice(0, 7).replace(/\$$/, '');
      const done = await db.$transaction(async (tx) => {
        const { count } = await tx.user.updateMany({ where: { id: user.id, passwordHash: user.passwordHash }, data: { passwordHash, passwordScheme: null } });
        if (count) await tx.auditEvent.create({ data: auditRow('password_rehashed', { ...meta, userId: user.id }, { from, to: `bcrypt cost=${bcryptCost}` }) });
        return count === 1;
      });
      if (done) audit.counted('password_rehashed');
    } catch (err) {
      log?.warn({ err: { message: (err as Error).message }, userId: user.id }, 'could not re-hash an imported password; it keeps working as it is');
    }
  }

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
        await passwords.check(password, undefined);
        await audit.record('login_failed', who, { reason: 'locked' });
        return { kind: 'locked', until: reservation.until };
      }
      const checked = await passwords.check(password, user ? stored(user) : undefined);
      const right = checked.ok;
      if (!user || !right || user.disabled) {
        return refuse(key, who, 'login_failed', !user ? 'unknown_user' : !right ? 'bad_password' : 'disabled');
      }
      // A lock set by other attempts while this one was being checked wins.
      const released = await lockout.release(key);
      if (!released.ok) {
        await audit.record('login_failed', who, { reason: 'locked' });
        return { kind: 'locked', until: released.until };
      }
      if (checked.rehash) await rehash(user, password, who);
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
        await passwords.check(creds.password, undefined);
        await audit.record('reauth_failed', who, { reason: 'locked' });
        return { kind: 'locked', until: reservation.until };
      }
      const checked = await passwords.check(creds.password, stored(user));
      if (!checked.ok) {
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
      if (checked.rehash) await rehash(user, creds.password, who);
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
