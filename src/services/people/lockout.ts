// Lockout after consecutive failed passwords or second-factor codes.
//
// An attempt is counted BEFORE its check (reserved with one conditional
// update), not after: otherwise parallel requests all read "not locked",
// all get a full check, and one right guess among them wins. At most
// `threshold` checks can be in flight or failed per lock window, on any
// number of nodes; the next attempt is refused unchecked. A check that
// passes gives its reservation back; a whole sign-in resets the counter,
// unless a lock was set meanwhile (a success that overlapped a lock never
// lifts it).
//
// Counters are keyed by a keyed hash of the email tried, so registered and
// unknown emails follow exactly the same path: same answers, same lock
// lengths (each further lock doubles, up to the maximum), same statements.
// A day after the last lock or attempt the row expires and the doubling
// starts over.
import { createHmac } from 'node:crypto';
import type { Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Clock } from '../../clock.ts';

export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

/** How long a lock row (and with it the doubling) outlives the last event. */
export const LOCKOUT_MEMORY_MS = 24 * 3600 * 1000;

export function lockDuration(policy: LockoutPolicy, priorLocks: number): number {
  return Math.min(policy.baseSeconds * 2 ** Math.min(priorLocks, 30), policy.maxSeconds);
}

export type Reservation = { ok: true } | { ok: false; until: Date };

const notLocked = (now: Date) => ({ OR: [{ lockedUntil: null }, { lockedUntil: { lte: now } }] });

export function createLockoutService(db: Db, policy: LockoutPolicy, hmacKey: Buffer, clock: Clock) {
  const expiry = (from: Date) => new Date(from.getTime() + LOCKOUT_MEMORY_MS);

  function lockEnd(row: { lockedUntil: Date | null; lockCount: number } | null, now: Date): Date {
    if (row?.lockedUntil && row.lockedUntil > now) return row.lockedUntil;
    // Every attempt of this window is in flight: the lock is about to be set.
    return new Date(now.getTime() + lockDuration(policy, row?.lockCount ?? 0) * 1000);
  }

  const take = (key: string, now: Date) =>
    db.lockout.updateMany({
      where: { key, failedAttempts: { lt: policy.threshold }, ...notLocked(now) },
      data: { failedAttempts: { increment: 1 }, expiresAt: expiry(now) },
    });

  return {
    /** The counter key for an email (normalized); the email itself is never stored here. */
    keyFor(email: string): string {
      return createHmac('sha256', hmacKey).update(`lockout:${email}`).digest('base64url');
    },

    /** Counts an attempt before it is checked; refused when locked or when the window's attempts are spent. */
    async reserve(key: string): Promise<Reservation> {
      const now = new Date(clock.now());
      // A few rounds: an update that found no row can meet a row another
      // request created a moment later, with places still free. That is a
      // lost race, not a lock: take a place again rather than refuse.
      for (let round = 0; round < 3; round++) {
        if ((await take(key, now)).count === 1) return { ok: true };
        const row = await db.lockout.findUnique({ where: { key } });
        if (!row) {
          // The first attempt for this key creates its row with itself counted.
          try {
            await db.lockout.create({ data: { key, failedAttempts: 1, expiresAt: expiry(now) } });
            return { ok: true };
          } catch (err) {
            if (!isUniqueViolation(err)) throw err;
            continue; // another node or request created it first
          }
        }
        const locked = row.lockedUntil !== null && row.lockedUntil > now;
        if (locked || row.failedAttempts >= policy.threshold) return { ok: false, until: lockEnd(row, now) };
      }
      // Still contested after every round: refuse this one, as if the lock were due.
      return { ok: false, until: lockEnd(await db.lockout.findUnique({ where: { key } }), now) };
    },

    /** The reserved attempt failed. Returns the lock end when this failure set the lock. */
    async failed(key: string): Promise<Date | undefined> {
      const now = new Date(clock.now());
      const row = await db.lockout.findUnique({ where: { key } });
      if (!row || row.failedAttempts < policy.threshold) return undefined;
      const until = new Date(now.getTime() + lockDuration(policy, row.lockCount) * 1000);
      // Only the request that finds the threshold reached locks (and doubles).
      const { count } = await db.lockout.updateMany({
        where: { key, failedAttempts: { gte: policy.threshold } },
        data: { failedAttempts: 0, lockedUntil: until, lockCount: { increment: 1 }, expiresAt: expiry(until) },
      });
      return count === 1 ? until : undefined;
    },

    /** The reserved attempt passed (one step of a sign-in): give it back. Refused when a lock was set meanwhile. */
    async release(key: string): Promise<Reservation> {
      const now = new Date(clock.now());
      const { count } = await db.lockout.updateMany({
        where: { key, failedAttempts: { gt: 0 }, ...notLocked(now) },
        data: { failedAttempts: { decrement: 1 } },
      });
      if (count === 1) return { ok: true };
      const row = await db.lockout.findUnique({ where: { key } });
      return row?.lockedUntil && row.lockedUntil > now ? { ok: false, until: row.lockedUntil } : { ok: true };
    },

    /** A whole sign-in succeeded: forget the failures and the doubling, unless a lock was set meanwhile. */
    async reset(key: string): Promise<void> {
      await db.lockout.deleteMany({ where: { key, ...notLocked(new Date(clock.now())) } });
    },
  };
}

export type LockoutService = ReturnType<typeof createLockoutService>;
