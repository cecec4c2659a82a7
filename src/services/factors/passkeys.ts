// Passkeys (WebAuthn, through @simplewebauthn/server): registering one from
// the account page, and signing in with one — instead of the password, or
// as the second step after it. The relying party is the issuer: its host
// name is the RP ID, its origin the only origin accepted.
//
// Every ceremony's challenge is stored server-side (with the provider's
// artifacts, under a keyed hash of a handle, so any node can finish it) and
// taken exactly once before the answer is checked: an answer can be checked
// against its challenge once, never replayed.
//
// A failed assertion is not counted by the lockout: there is nothing to
// guess (it is a signature by a key the server never sees), and counting it
// would let anyone lock a person out of their password by sending garbage.
import { createHmac, randomBytes } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Db } from '../../db/database.ts';
import { invalidInput } from '../../errors.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Clock } from '../../clock.ts';

// Loaded on the first passkey ceremony, not at start: 22 MB and ~0.3 s that
// a server whose people never add a passkey does not need (bench/README.md).
let webauthn: Promise<typeof import('@simplewebauthn/server')> | undefined;
const lib = () => (webauthn ??= import('@simplewebauthn/server'));

const CHALLENGE_TYPE = 'WebAuthnChallenge';
/** How long a ceremony may take, from the page that started it. */
export const CEREMONY_SECONDS = 600;
export const MAX_PASSKEY_NAME = 64;

/** `login`: instead of the password (user verification required); `second-step`: after it. */
export type PasskeyPurpose = 'register' | 'login' | 'second-step';

export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  synced: boolean;
}

/** RFC 8176: a key in hardware (bound to one authenticator) or in software (synced between devices). */
export type KeyKind = 'hwk' | 'swk';

export type PasskeyAssertion = { ok: true; userId: string; kind: KeyKind; userVerified: boolean } | { ok: false };

interface StoredChallenge {
  challenge: string;
  userId?: string;
}

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

function parse<T>(json: string): T | undefined {
  try {
    const value = JSON.parse(json) as unknown;
    return value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

export function createPasskeyService(db: Db, clock: Clock, opts: { issuer: string; rpName: string; idKey: Buffer }) {
  const origin = new URL(opts.issuer).origin;
  const rpID = new URL(opts.issuer).hostname;
  const keyOf = (purpose: PasskeyPurpose, handle: string) => createHmac('sha256', opts.idKey).update(`webauthn:${purpose}:${handle}`).digest('base64url');

  async function saveChallenge(purpose: PasskeyPurpose, handle: string, value: StoredChallenge): Promise<void> {
    const id = keyOf(purpose, handle);
    const data = { payload: JSON.stringify(value), accountId: value.userId ?? null, expiresAt: new Date(clock.now() + CEREMONY_SECONDS * 1000) };
    await db.oidcPayload.upsert({ where: { type_id: { type: CHALLENGE_TYPE, id } }, create: { type: CHALLENGE_TYPE, id, ...data }, update: data });
  }

  /** The challenge, once: of two requests answering it, one gets it. */
  async function takeChallenge(purpose: PasskeyPurpose, handle: string): Promise<StoredChallenge | undefined> {
    const id = keyOf(purpose, handle);
    const row = await db.oidcPayload.findUnique({ where: { type_id: { type: CHALLENGE_TYPE, id } } });
    if (!row) return undefined;
    const { count } = await db.oidcPayload.deleteMany({ where: { type: CHALLENGE_TYPE, id, payload: row.payload } });
    if (count !== 1 || (row.expiresAt && row.expiresAt.getTime() <= clock.now())) return undefined;
    return JSON.parse(row.payload) as StoredChallenge;
  }

  const credentialsOf = async (userId: string) =>
    (await db.passkey.findMany({ where: { userId }, select: { id: true, transports: true } })).map((p) => ({
      id: p.id,
      transports: p.transports ? (JSON.parse(p.transports) as string[]) : undefined,
    }));

  return {
    async list(userId: string): Promise<PasskeySummary[]> {
      const rows = await db.passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
      return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, synced: r.deviceType === 'multiDevice' }));
    },

    async count(userId: string): Promise<number> {
      return db.passkey.count({ where: { userId } });
    },

    /**
     * Starts registering a passkey for a person who has just proven who they
     * are. The token goes back with the answer (like a TOTP enrolment's): a
     * session alone cannot finish someone else's registration.
     */
    async registrationOptions(userId: string): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; token: string }> {
      const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
      const options = await (await lib()).generateRegistrationOptions({
        rpName: opts.rpName,
        rpID,
        userName: user.email,
        userDisplayName: user.name ?? user.email,
        userID: new TextEncoder().encode(user.id),
        attestationType: 'none',
        excludeCredentials: await credentialsOf(userId),
        // Discoverable, so that signing in needs no email first.
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      });
      const token = randomBytes(32).toString('base64url');
      // Keyed by person and token: another session's request cannot even find it.
      await saveChallenge('register', `${userId}:${token}`, { challenge: options.challenge, userId });
      return { options, token };
    },

    /** Checks the authenticator's answer and stores the passkey (named `fallbackName` when no name was given); why, when refused. */
    async finishRegistration(
      userId: string,
      token: string,
      responseJson: string,
      nameInput: string,
      fallbackName?: string,
    ): Promise<{ ok: true; id: string; name: string } | { ok: false; reason: 'expired' | 'no_credential' | 'not_checked' | 'duplicate' }> {
      const name = nameInput.trim().replace(/\s+/g, ' ');
      if (name.length > MAX_PASSKEY_NAME) throw invalidInput(`A passkey's name can be at most ${MAX_PASSKEY_NAME} characters.`);
      const stored = token ? await takeChallenge('register', `${userId}:${token}`) : undefined;
      if (!stored || stored.userId !== userId) return { ok: false, reason: 'expired' };
      const response = parse<RegistrationResponseJSON>(responseJson);
      if (!response) return { ok: false, reason: 'no_credential' };
      let verification;
      try {
        verification = await (await lib()).verifyRegistrationResponse({
          response,
          expectedChallenge: stored.challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: false,
        });
      } catch {
        return { ok: false, reason: 'not_checked' };
      }
      if (!verification.verified) return { ok: false, reason: 'not_checked' };
      const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
      const count = await db.passkey.count({ where: { userId } });
      const finalName = (name || fallbackName?.trim() || `Passkey ${count + 1}`).slice(0, MAX_PASSKEY_NAME);
      try {
        await db.passkey.create({
          data: {
            id: credential.id,
            userId,
            name: finalName,
            publicKey: b64u(credential.publicKey),
            counter: BigInt(credential.counter),
            transports: credential.transports ? JSON.stringify(credential.transports) : null,
            deviceType: credentialDeviceType,
            backedUp: credentialBackedUp,
          },
        });
      } catch (err) {
        if (isUniqueViolation(err)) return { ok: false, reason: 'duplicate' };
        throw err;
      }
      return { ok: true, id: credential.id, name: finalName };
    },

    /**
     * Options for signing in with a passkey, for the ceremony named by
     * `handle` (the sign-in in progress). With `userId`, only that person's
     * passkeys are offered (the second step after their password).
     */
    async authenticationOptions(purpose: 'login' | 'second-step', handle: string, userId?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const options = await (await lib()).generateAuthenticationOptions({
        rpID,
        allowCredentials: userId ? await credentialsOf(userId) : [],
        userVerification: purpose === 'login' ? 'required' : 'preferred',
      });
      await saveChallenge(purpose, handle, { challenge: options.challenge, ...(userId ? { userId } : {}) });
      return options;
    },

    /**
     * Checks a sign-in answer. Instead of the password, the authenticator must
     * have verified the person (PIN or biometrics); as a second step, presence
     * is enough. `userId`: the passkey must be that person's.
     */
    async authenticate(purpose: 'login' | 'second-step', handle: string, responseJson: string, userId?: string): Promise<PasskeyAssertion> {
      const stored = await takeChallenge(purpose, handle);
      const response = parse<AuthenticationResponseJSON>(responseJson);
      if (!stored || !response || (userId && stored.userId !== userId)) return { ok: false };
      const passkey = await db.passkey.findUnique({ where: { id: response.id } });
      if (!passkey || (userId && passkey.userId !== userId)) return { ok: false };
      let verification;
      try {
        verification = await (await lib()).verifyAuthenticationResponse({
          response,
          expectedChallenge: stored.challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          credential: {
            id: passkey.id,
            publicKey: Buffer.from(passkey.publicKey, 'base64url'),
            counter: Number(passkey.counter),
            transports: passkey.transports ? (JSON.parse(passkey.transports) as string[]) : undefined,
          },
          requireUserVerification: purpose === 'login',
        });
      } catch {
        // A wrong signature, another origin, a counter gone backwards (a cloned key), no user verification.
        return { ok: false };
      }
      if (!verification.verified) return { ok: false };
      const info = verification.authenticationInfo;
      // The counter only moves forward: a parallel use with an older count changes nothing.
      await db.passkey.updateMany({
        where: { id: passkey.id, counter: passkey.counter },
        data: { counter: BigInt(info.newCounter), lastUsedAt: new Date(clock.now()), backedUp: info.credentialBackedUp, deviceType: info.credentialDeviceType },
      });
      return { ok: true, userId: passkey.userId, kind: info.credentialDeviceType === 'multiDevice' ? 'swk' : 'hwk', userVerified: info.userVerified };
    },

    /** Removes one of the person's passkeys; false when it is not theirs (or gone). */
    async remove(userId: string, id: string): Promise<string | undefined> {
      const passkey = await db.passkey.findFirst({ where: { id, userId } });
      if (!passkey) return undefined;
      const { count } = await db.passkey.deleteMany({ where: { id, userId } });
      return count === 1 ? passkey.name : undefined;
    },

    /** Removes every passkey of the person (an administrator's reset of their second factor); how many there were. */
    async removeAll(userId: string): Promise<number> {
      const { count } = await db.passkey.deleteMany({ where: { userId } });
      return count;
    },
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
