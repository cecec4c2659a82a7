// Authentication context classes (acr) and when a second factor is needed.
import type { SecondFactorMethod } from '../services/people/sign-in.ts';

export const ACR_PASSWORD = 'urn:latchkey:acr:pwd';
export const ACR_MFA = 'urn:latchkey:acr:mfa';

/** Extra client metadata (set with `client create --require-mfa`). */
export const REQUIRE_MFA = 'latchkey_require_mfa';

export function requiresSecondFactor(clientMetadata: Record<string, unknown>, acrValues: unknown): boolean {
  if (clientMetadata[REQUIRE_MFA] === true) return true;
  return typeof acrValues === 'string' && acrValues.split(' ').includes(ACR_MFA);
}

/**
 * `amr` (RFC 8176) says what was used: `pwd`, plus `otp` for an
 * authenticator code or `recovery_code` for a single-use recovery code (not
 * an RFC 8176 value: relying parties that require `otp` can tell the two
 * apart). Both second factors give the two-factor `acr`.
 */
export function loginResult(accountId: string, secondFactor?: SecondFactorMethod) {
  return secondFactor ? { accountId, amr: ['pwd', secondFactor], acr: ACR_MFA } : { accountId, amr: ['pwd'], acr: ACR_PASSWORD };
}

/**
 * A passkey: `hwk` (a key bound to one authenticator) or `swk` (a synced
 * passkey, its key kept in software). Instead of the password it is two
 * factors — the key, and the PIN or biometrics the authenticator checked
 * (user verification is required there) — so `mfa` and the two-factor acr;
 * after the password, `["pwd", "hwk"|"swk"]` like a code.
 */
export function passkeyLoginResult(accountId: string, kind: 'hwk' | 'swk', afterPassword: boolean) {
  return afterPassword ? { accountId, amr: ['pwd', kind], acr: ACR_MFA } : { accountId, amr: [kind, 'mfa'], acr: ACR_MFA };
}

export type LoginResult = ReturnType<typeof loginResult>;
