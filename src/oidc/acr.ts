// Authentication context classes (acr) and when a second factor is needed.
export const ACR_PASSWORD = 'urn:latchkey:acr:pwd';
export const ACR_MFA = 'urn:latchkey:acr:mfa';

/** Extra client metadata (set with `client create --require-mfa`). */
export const REQUIRE_MFA = 'latchkey_require_mfa';

export function requiresSecondFactor(clientMetadata: Record<string, unknown>, acrValues: unknown): boolean {
  if (clientMetadata[REQUIRE_MFA] === true) return true;
  return typeof acrValues === 'string' && acrValues.split(' ').includes(ACR_MFA);
}

export function loginResult(accountId: string, secondFactor: boolean) {
  return secondFactor
    ? { accountId, amr: ['pwd', 'otp'], acr: ACR_MFA }
    : { accountId, amr: ['pwd'], acr: ACR_PASSWORD };
}
