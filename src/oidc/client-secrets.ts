// Clients' `client_secret` as oidc-provider sees it is the stored HMAC of the
// secret, never the secret. This replaces the library's equality check with
// "HMAC the presented secret, compare in constant time" against the current
// secret and, during a rotation's overlap, the one it replaced. The method is
// not a documented extension point (the maintainer suggested it in
// panva/node-oidc-provider#631); the client-authentication tests pin it.
import type Provider from 'oidc-provider';
import type { ClientService } from '../services/machines/clients.ts';

export function useHashedClientSecrets(provider: Provider, clients: ClientService): void {
  const proto = provider.Client.prototype as unknown as {
    compareClientSecret(this: { clientId: string; clientSecret?: string }, actual: string): Promise<boolean> | boolean;
  };
  proto.compareClientSecret = function compareClientSecret(actual: string) {
    return typeof this.clientSecret === 'string' && clients.verifySecret(this.clientId, actual);
  };
}
