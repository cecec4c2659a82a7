// Re-encrypts every value sealed with the key-encryption key under a new one,
// in one transaction: signing keys, server secrets, TOTP secrets and service
// accounts' shared secrets. Purposes (the associated data) are unchanged.
import type { Db } from '../../db/database.ts';
import type { SecretBox } from './secret-box.ts';

export async function rewrapSecrets(db: Db, from: SecretBox, to: SecretBox): Promise<Record<string, number>> {
  const rewrap = (sealed: string, purpose: string) => to.seal(from.open(sealed, purpose), purpose);
  return db.$transaction(
    async (tx) => {
      const counts: Record<string, number> = { signing_keys: 0, server_secrets: 0, totp_secrets: 0, shared_secrets: 0 };
      for (const k of await tx.signingKey.findMany({ where: { privateJwkEnc: { not: '' } } })) {
        await tx.signingKey.update({ where: { kid: k.kid }, data: { privateJwkEnc: rewrap(k.privateJwkEnc, `signing-key:${k.kid}`) } });
        counts.signing_keys!++;
      }
      for (const s of await tx.serverSecret.findMany()) {
        await tx.serverSecret.update({ where: { name: s.name }, data: { valueEnc: rewrap(s.valueEnc, `server-secret:${s.name}`) } });
        counts.server_secrets!++;
      }
      for (const u of await tx.user.findMany({ where: { OR: [{ totpSecretEnc: { not: null } }, { totpPendingEnc: { not: null } }] } })) {
        await tx.user.update({
          where: { id: u.id },
          data: {
            totpSecretEnc: u.totpSecretEnc ? rewrap(u.totpSecretEnc, `totp-secret:active:${u.id}`) : null,
            totpPendingEnc: u.totpPendingEnc ? rewrap(u.totpPendingEnc, `totp-secret:pending:${u.id}`) : null,
          },
        });
        counts.totp_secrets!++;
      }
      for (const c of await tx.client.findMany({ where: { sharedSecretEnc: { not: null } } })) {
        await tx.client.update({ where: { id: c.id }, data: { sharedSecretEnc: rewrap(c.sharedSecretEnc!, `shared-secret:${c.id}`) } });
        counts.shared_secrets!++;
      }
      return counts;
    },
    { timeout: 60_000 },
  );
}
