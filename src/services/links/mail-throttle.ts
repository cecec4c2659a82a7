// How many messages one address may be sent per window (RATE_LIMIT_EMAIL),
// whoever asks and from wherever: sign-up, reset and confirmation forms
// cannot be used to flood someone's inbox. Counted in the shared store under
// a keyed hash of the address, registered or not, so the count itself says
// nothing about who has an account. Over the budget a message is silently
// not sent: the page the asker sees is the same.
import { createHmac } from 'node:crypto';
import type { RateLimiterPrisma } from 'rate-limiter-flexible';
import type { RateLimit } from '../../config/env.ts';
import type { Db } from '../../db/database.ts';
import type { Logger } from '../../logger.ts';

export function createMailThrottle(db: Db, limit: RateLimit | undefined, hmacKey: Buffer, log?: Logger) {
  // The library is loaded with the first message (the admin CLI mostly sends none).
  let lib: Promise<typeof import('rate-limiter-flexible')> | undefined;
  let limiter: RateLimiterPrisma | undefined;
  return {
    /** Counts one message to `email` (normalized); false when its budget is spent. */
    async allow(email: string): Promise<boolean> {
      if (!limit) return true;
      lib ??= import('rate-limiter-flexible');
      const { RateLimiterPrisma, RateLimiterRes } = await lib;
      limiter ??= new RateLimiterPrisma({
        storeClient: db,
        tableName: 'rateLimit',
        keyPrefix: 'mail:to',
        points: limit.points,
        duration: limit.seconds,
        clearExpiredByTimeout: false,
      });
      try {
        await limiter.consume(createHmac('sha256', hmacKey).update(`mail-to:${email}`).digest('base64url'));
        return true;
      } catch (err) {
        if (err instanceof RateLimiterRes) return false;
        // The counter store failing must not stop a person from getting their link.
        log?.warn({ err }, 'mail throttle unavailable; message allowed');
        return true;
      }
    },
  };
}

export type MailThrottle = ReturnType<typeof createMailThrottle>;
