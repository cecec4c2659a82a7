// Initial access tokens for dynamic client registration (RFC 7591 §3): an
// operator hands one to whoever may register clients. 256 random bits, shown
// once, kept as an HMAC under a server key; a number of uses and an expiry,
// spent by one conditional update so parallel registrations on any number of
// nodes never use a token more often than it allows.
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/database.ts';
import { invalidInput } from '../../errors.ts';
import { actorName, type Actor, type AuditService } from '../admin/audit.ts';

/** Marks the token as Latchkey's in logs and secret scanners. */
export const REGISTRATION_TOKEN_PREFIX = 'lkreg_';

export interface RegistrationTokenInput {
  /** Seconds from now; undefined: no expiry. */
  expiresIn?: number;
  /** How many registrations it allows; undefined: any number until it expires. */
  uses?: number;
}

export type Spent = { ok: true; refund(): Promise<void> } | { ok: false; reason: string };

export function createRegistrationTokenService(db: Db, key: Buffer, clock: Clock, audit: Pick<AuditService, 'recordChange'>) {
  const digest = (token: string) => createHmac('sha256', key).update(token).digest('base64url');

  return {
    /** A new token, audited as the actor's (never the token itself). */
    async create(actor: Actor, input: RegistrationTokenInput): Promise<{ token: string; expiresAt: Date | null; uses: number | null }> {
      if (input.uses !== undefined && (!Number.isInteger(input.uses) || input.uses < 1)) throw invalidInput('--uses must be a whole number from 1');
      if (input.uses === undefined && input.expiresIn === undefined) throw invalidInput('a registration token needs --uses N or --expires DURATION (or both)');
      const token = `${REGISTRATION_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const expiresAt = input.expiresIn === undefined ? null : new Date(clock.now() + input.expiresIn * 1000);
      await db.registrationToken.create({
        data: { id: digest(token), usesLeft: input.uses ?? null, expiresAt, createdBy: actorName(actor), createdAt: new Date(clock.now()) },
      });
      await audit.recordChange(
        actor,
        'client.registration_token_created',
        { kind: 'registration_token', id: 'initial-access-token' },
        {
          expires_at: expiresAt?.toISOString() ?? null,
          uses: input.uses ?? null,
        },
      );
      return { token, expiresAt, uses: input.uses ?? null };
    },

    /** One registration's use of `token`: refused when unknown, expired or used up; `refund` when the registration failed. */
    async spend(token: string): Promise<Spent> {
      const id = digest(token);
      const now = new Date(clock.now());
      const { count } = await db.registrationToken.updateMany({
        where: { id, AND: [{ OR: [{ usesLeft: null }, { usesLeft: { gt: 0 } }] }, { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }] },
        data: { usesLeft: { decrement: 1 } },
      });
      if (count === 1) {
        return {
          ok: true,
          refund: async () => {
            await db.registrationToken.updateMany({ where: { id, usesLeft: { not: null } }, data: { usesLeft: { increment: 1 } } });
          },
        };
      }
      const row = await db.registrationToken.findUnique({ where: { id } });
      if (!row) return { ok: false, reason: 'initial access token not recognised' };
      if (row.expiresAt && row.expiresAt <= now) return { ok: false, reason: 'initial access token expired' };
      return { ok: false, reason: 'initial access token used up' };
    },

    /** Tokens that can never be used again (expired, or no uses left). */
    async sweep(now: Date): Promise<number> {
      const { count } = await db.registrationToken.deleteMany({ where: { OR: [{ expiresAt: { lt: now } }, { usesLeft: { lte: 0 } }] } });
      return count;
    },
  };
}

export type RegistrationTokenService = ReturnType<typeof createRegistrationTokenService>;
