// TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step of drift) and recovery
// codes. Secrets are encrypted at rest; a time step once accepted can never
// be accepted again (the last step is advanced with a conditional update, so
// two nodes cannot both accept one code). Recovery codes carry 256 bits,
// are shown once and stored as keyed hashes.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Db } from '../db/database.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { SecretBox } from './secret-box.ts';

export const RECOVERY_CODE_COUNT = 10;
const PERIOD = 30;
const purpose = (userId: string, which: 'active' | 'pending') => `totp-secret:${which}:${userId}`;

// Crockford's base32 alphabet: no I, L, O or U to misread.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function normalizeRecoveryCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

function totpFor(secretBase32: string, label: string, issuer: string): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: Secret.fromBase32(secretBase32) });
}

export interface Enrollment {
  secret: string;
  uri: string;
  qrDataUri: string;
}

export type SecondFactorResult = { ok: true; method: 'otp' | 'recovery' } | { ok: false };

export function createSecondFactorService(db: Db, box: SecretBox, opts: { issuer: string; recoveryKey: Buffer }) {
  const hashCode = (code: string) => createHmac('sha256', opts.recoveryKey).update(normalizeRecoveryCode(code)).digest('base64url');

  async function issueRecoveryCodes(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => base32(randomBytes(32)).match(/.{1,4}/g)!.join('-'));
    await db.$transaction([
      db.recoveryCode.deleteMany({ where: { userId } }),
      db.recoveryCode.createMany({ data: codes.map((c) => ({ id: randomUUID(), userId, codeHash: hashCode(c) })) }),
    ]);
    return codes;
  }

  /** Accepts a TOTP code once: only a time step later than the last accepted one. */
  async function acceptTotp(user: { id: string; email: string }, secret: string, code: string, now: number) {
    if (!/^\d{6}$/.test(code)) return false;
    const delta = totpFor(secret, user.email, opts.issuer).validate({ token: code, timestamp: now, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / PERIOD) + delta;
    const { count } = await db.user.updateMany({
      where: { id: user.id, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] },
      data: { totpLastStep: step },
    });
    return count === 1;
  }

  return {
    /** Starts (or restarts) enrolment: a new pending secret and its QR code. */
    async beginEnrollment(userId: string): Promise<Enrollment> {
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user) throw notFound(`user ${userId}`);
      const secret = new Secret({ size: 20 }).base32;
      await db.user.update({ where: { id: userId }, data: { totpPendingEnc: box.seal(secret, purpose(userId, 'pending')) } });
      return this.describe(user.email, secret);
    },

    /** The pending enrolment, to show the page again after a wrong code. */
    async pendingEnrollment(userId: string): Promise<Enrollment | undefined> {
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user?.totpPendingEnc) return undefined;
      return this.describe(user.email, box.open(user.totpPendingEnc, purpose(userId, 'pending')));
    },

    async describe(email: string, secret: string): Promise<Enrollment> {
      const uri = totpFor(secret, email, opts.issuer).toString();
      const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { secret, uri, qrDataUri: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    },

    /** Activates the pending secret after a correct code; returns the new recovery codes. */
    async confirmEnrollment(userId: string, code: string, now = Date.now()): Promise<string[] | undefined> {
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user?.totpPendingEnc) throw invalidInput('There is no second-factor setup in progress. Start again.');
      const secret = box.open(user.totpPendingEnc, purpose(userId, 'pending'));
      if (!(await acceptTotp(user, secret, code.trim(), now))) return undefined;
      await db.user.update({
        where: { id: userId },
        data: { totpSecretEnc: box.seal(secret, purpose(userId, 'active')), totpPendingEnc: null, totpEnabledAt: new Date() },
      });
      return issueRecoveryCodes(userId);
    },

    /** Checks a TOTP code or a recovery code (each usable once). */
    async verify(userId: string, input: string, now = Date.now()): Promise<SecondFactorResult> {
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user?.totpSecretEnc) return { ok: false };
      const code = input.trim().replace(/\s/g, '');
      if (/^\d{6}$/.test(code)) {
        const secret = box.open(user.totpSecretEnc, purpose(userId, 'active'));
        return (await acceptTotp(user, secret, code, now)) ? { ok: true, method: 'otp' } : { ok: false };
      }
      if (normalizeRecoveryCode(code).length < 40) return { ok: false };
      const { count } = await db.recoveryCode.updateMany({ where: { userId, codeHash: hashCode(code), usedAt: null }, data: { usedAt: new Date() } });
      return count === 1 ? { ok: true, method: 'recovery' } : { ok: false };
    },

    async regenerateRecoveryCodes(userId: string): Promise<string[]> {
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user?.totpSecretEnc) throw invalidInput('Set up an authenticator app first.');
      return issueRecoveryCodes(userId);
    },

    async remainingRecoveryCodes(userId: string): Promise<number> {
      return db.recoveryCode.count({ where: { userId, usedAt: null } });
    },

    async remove(userId: string): Promise<void> {
      await db.$transaction([
        db.recoveryCode.deleteMany({ where: { userId } }),
        db.user.update({ where: { id: userId }, data: { totpSecretEnc: null, totpPendingEnc: null, totpEnabledAt: null, totpLastStep: null } }),
      ]);
    },
  };
}

export type SecondFactorService = ReturnType<typeof createSecondFactorService>;
