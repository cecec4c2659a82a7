// TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step of drift) and recovery
// codes. Secrets are encrypted at rest; a time step once accepted can never
// be accepted again (the last step is advanced with a conditional update, so
// two nodes cannot both accept one code). Recovery codes are shown once and
// stored as keyed hashes; each is 15 Crockford base32 characters in three
// groups (XXXXX-XXXXX-XXXXX, 75 bits) that a person can type: plenty for a
// single-use code behind the lockout, which allows a handful of guesses per
// lock window against ten codes (2^-71 a guess).
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { constantTimeEqual } from '../secrets/constant-time.ts';
import { Secret, TOTP } from 'otpauth';
import type { Db } from '../../db/database.ts';
import { invalidInput, notFound } from '../../errors.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { qrSvgDataUri } from './qr-code.ts';
import type { Clock } from '../../clock.ts';

export const RECOVERY_CODE_COUNT = 10;
/** Characters of a recovery code (5 bits each), without the dashes. */
export const RECOVERY_CODE_LENGTH = 15;
/** Codes issued before issue 12 (256 bits, 52 characters) keep working until replaced. */
const LEGACY_CODE_LENGTH = 52;
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

/** As typed: any case, with or without dashes or spaces; O read as 0, I and L as 1 (Crockford). */
export function normalizeRecoveryCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

export function newRecoveryCode(): string {
  // 80 random bits give 16 characters; the first 15 (75 bits) are the code.
  return base32(randomBytes(10)).slice(0, RECOVERY_CODE_LENGTH).match(/.{5}/g)!.join('-');
}

/** How codes are made: RFC 6238's defaults for secrets enrolled here; an imported app may differ. */
export interface TotpParams {
  digits: number;
  period: number;
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
}
export const DEFAULT_TOTP: TotpParams = { digits: 6, period: PERIOD, algorithm: 'SHA1' };

/**
 * The sealed value of an active secret: the base32 secret alone with the
 * defaults (every secret enrolled here), JSON with an imported app's own
 * digits, period or algorithm.
 */
export function totpPlaintext(secret: string, params: TotpParams = DEFAULT_TOTP): string {
  const isDefault = params.digits === 6 && params.period === PERIOD && params.algorithm === 'SHA1';
  return isDefault ? secret : JSON.stringify({ secret, digits: params.digits, period: params.period, algorithm: params.algorithm });
}

function readTotp(plaintext: string): { secret: string; params: TotpParams } {
  if (!plaintext.startsWith('{')) return { secret: plaintext, params: DEFAULT_TOTP };
  const v = JSON.parse(plaintext) as { secret: string } & TotpParams;
  return { secret: v.secret, params: { digits: v.digits, period: v.period, algorithm: v.algorithm } };
}

function totpFor(secretBase32: string, label: string, issuer: string, params: TotpParams = DEFAULT_TOTP): TOTP {
  return new TOTP({ issuer, label, algorithm: params.algorithm, digits: params.digits, period: params.period, secret: Secret.fromBase32(secretBase32) });
}

/** Imported recovery codes: as the other product made them, 8 to 64 characters once normalized. */
export const IMPORTED_CODE_LENGTH = [8, 64] as const;

export interface Enrollment {
  secret: string;
  uri: string;
  qrDataUri: string;
  /**
   * Proof that whoever holds it started this enrolment (after proving who
   * they are): it goes back with the code, and without it the pending secret
   * is neither shown again nor activated. A session alone cannot take over a
   * half-finished enrolment.
   */
  token: string;
}

export type SecondFactorResult = { ok: true; method: 'otp' | 'recovery' } | { ok: false };

export function createSecondFactorService(db: Db, box: SecretBox, clock: Clock, opts: { issuer: string; recoveryKey: Buffer }) {
  async function describe(email: string, secret: string, token: string): Promise<Enrollment> {
    const uri = totpFor(secret, email, opts.issuer).toString();
    return { secret, uri, qrDataUri: await qrSvgDataUri(uri), token };
  }

  const hashCode = (code: string) => createHmac('sha256', opts.recoveryKey).update(normalizeRecoveryCode(code)).digest('base64url');
  // Another product's codes may be short or repeat across people (the hash column is unique):
  // bound to their owner.
  const hashImportedCode = (userId: string, code: string) =>
    createHmac('sha256', opts.recoveryKey)
      .update(`imported:${userId}:${normalizeRecoveryCode(code)}`)
      .digest('base64url');
  const enrollmentToken = (userId: string, pendingEnc: string) =>
    createHmac('sha256', opts.recoveryKey).update(`totp-enrollment:${userId}:${pendingEnc}`).digest('base64url');
  const tokenMatches = (expected: string, given: string) => constantTimeEqual(given, expected);

  async function issueRecoveryCodes(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await db.$transaction([
      db.recoveryCode.deleteMany({ where: { userId } }),
      db.recoveryCode.createMany({ data: codes.map((c) => ({ id: randomUUID(), userId, codeHash: hashCode(c) })) }),
    ]);
    return codes;
  }

  /** The time step `code` belongs to for `secret`, within ±1 step of drift. */
  function stepOf(user: { email: string }, secret: string, code: string, now: number, params: TotpParams = DEFAULT_TOTP): number | undefined {
    if (code.length !== params.digits || !/^\d+$/.test(code)) return undefined;
    const delta = totpFor(secret, user.email, opts.issuer, params).validate({ token: code, timestamp: now, window: 1 });
    return delta === null ? undefined : Math.floor(now / 1000 / params.period) + delta;
  }

  /** Accepts a code of the active secret once: only a time step later than the last accepted one. */
  async function acceptTotp(user: { id: string; email: string }, secret: string, code: string, now: number, params: TotpParams = DEFAULT_TOTP) {
    const step = stepOf(user, secret, code, now, params);
    if (step === undefined) return false;
    const { count } = await db.user.updateMany({
      where: { id: user.id, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] },
      data: { totpLastStep: step },
    });
    return count === 1;
  }

  return {
    /**
     * Starts (or restarts) enrolment: a new pending secret and its QR code.
     * The caller must have established who the person is (the password, and
     * the current factor when replacing one).
     */
    async beginEnrollment(userId: string): Promise<Enrollment> {
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user) throw notFound(`user ${userId}`);
      const secret = new Secret({ size: 20 }).base32;
      const pendingEnc = box.seal(secret, purpose(userId, 'pending'));
      await db.user.update({ where: { id: userId }, data: { totpPendingEnc: pendingEnc } });
      return describe(user.email, secret, enrollmentToken(userId, pendingEnc));
    },

    /** The pending enrolment started with `token`, to show the page again after a wrong code. */
    async pendingEnrollment(userId: string, token: string): Promise<Enrollment | undefined> {
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user?.totpPendingEnc || !tokenMatches(enrollmentToken(userId, user.totpPendingEnc), token)) return undefined;
      return describe(user.email, box.open(user.totpPendingEnc, purpose(userId, 'pending')), token);
    },

    /** Activates the pending secret started with `token` after a correct code; returns the new recovery codes. */
    async confirmEnrollment(userId: string, token: string, code: string): Promise<string[] | undefined> {
      const now = clock.now();
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user?.totpPendingEnc || !tokenMatches(enrollmentToken(userId, user.totpPendingEnc), token)) {
        throw invalidInput('There is no second-factor setup in progress. Start again.');
      }
      const secret = box.open(user.totpPendingEnc, purpose(userId, 'pending'));
      // A new secret starts its own replay window: the old app's last step says nothing about it.
      const step = stepOf(user, secret, code.trim(), now);
      if (step === undefined) return undefined;
      const { count } = await db.user.updateMany({
        where: { id: userId, totpPendingEnc: user.totpPendingEnc },
        data: { totpSecretEnc: box.seal(secret, purpose(userId, 'active')), totpPendingEnc: null, totpEnabledAt: new Date(now), totpLastStep: step },
      });
      if (count === 0) throw invalidInput('There is no second-factor setup in progress. Start again.');
      return issueRecoveryCodes(userId);
    },

    /** Checks a TOTP code or a recovery code (each usable once). */
    async verify(userId: string, input: string): Promise<SecondFactorResult> {
      const now = clock.now();
      const user = await db.user.findUnique({ where: { id: userId } });
      if (!user?.totpSecretEnc) return { ok: false };
      const code = input.trim().replace(/\s/g, '');
      const { secret, params } = readTotp(box.open(user.totpSecretEnc, purpose(userId, 'active')));
      if (/^\d+$/.test(code) && code.length === params.digits) {
        if (await acceptTotp(user, secret, code, now, params)) return { ok: true, method: 'otp' };
        // An imported app's codes and an imported recovery code may both be all digits.
        if (code.length < IMPORTED_CODE_LENGTH[0]) return { ok: false };
      }
      const length = normalizeRecoveryCode(code).length;
      if (length !== RECOVERY_CODE_LENGTH && length !== LEGACY_CODE_LENGTH && (length < IMPORTED_CODE_LENGTH[0] || length > IMPORTED_CODE_LENGTH[1]))
        return { ok: false };
      const { count } = await db.recoveryCode.updateMany({
        where: { userId, codeHash: { in: [hashCode(code), hashImportedCode(userId, code)] }, usedAt: null },
        data: { usedAt: new Date(now) },
      });
      return count === 1 ? { ok: true, method: 'recovery' } : { ok: false };
    },

    /** How an imported recovery code is stored (user import): a keyed hash bound to its owner. */
    hashImportedCode,

    /** How an imported authenticator secret is stored: sealed like an enrolled one. */
    sealImportedTotp(userId: string, secret: string, params: TotpParams): string {
      return box.seal(totpPlaintext(secret, params), purpose(userId, 'active'));
    },

    /** An active secret as stored, read back (user import compares before it overwrites). */
    openTotp(userId: string, sealed: string): { secret: string; params: TotpParams } {
      return readTotp(box.open(sealed, purpose(userId, 'active')));
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
