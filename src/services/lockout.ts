// Per-account lockout after consecutive failed passwords or second-factor
// codes. Counters live in the users table (atomic increments), so every node
// sees the same count. Each further lock doubles, up to the maximum; a
// success resets both the count and the doubling.
import type { Db } from '../db/database.ts';

export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

export function lockDuration(policy: LockoutPolicy, priorLocks: number): number {
  return Math.min(policy.baseSeconds * 2 ** Math.min(priorLocks, 30), policy.maxSeconds);
}

export function createLockoutService(db: Db, policy: LockoutPolicy) {
  return {
    /** When the account is locked, until when. */
    lockedUntil(user: { lockedUntil: Date | null }, now = new Date()): Date | undefined {
      return user.lockedUntil && user.lockedUntil > now ? user.lockedUntil : undefined;
    },

    /** Counts a failure; returns the lock end when this failure locked the account. */
    async recordFailure(userId: string): Promise<Date | undefined> {
      const user = await db.user.update({ where: { id: userId }, data: { failedAttempts: { increment: 1 } } });
      if (user.failedAttempts < policy.threshold) return undefined;
      const until = new Date(Date.now() + lockDuration(policy, user.lockCount) * 1000);
      // Only the request that crossed the threshold locks (and doubles); concurrent ones see count reset.
      const { count } = await db.user.updateMany({
        where: { id: userId, failedAttempts: { gte: policy.threshold } },
        data: { failedAttempts: 0, lockedUntil: until, lockCount: { increment: 1 } },
      });
      return count === 1 ? until : undefined;
    },

    async recordSuccess(userId: string): Promise<void> {
      await db.user.updateMany({
        where: { id: userId, OR: [{ failedAttempts: { gt: 0 } }, { lockCount: { gt: 0 } }, { lockedUntil: { not: null } }] },
        data: { failedAttempts: 0, lockCount: 0, lockedUntil: null },
      });
    },
  };
}

export type LockoutService = ReturnType<typeof createLockoutService>;
