// Which client, if any, the current token request authenticates by its
// jwt-bearer assertion alone. Set by the token pre-parser around the
// provider's handling of that one request; read by the Client adapter.
import { AsyncLocalStorage } from 'node:async_hooks';

const store = new AsyncLocalStorage<string>();

export function withAssertionAuthentication<T>(clientId: string, fn: () => Promise<T>): Promise<T> {
  return store.run(clientId, fn);
}

export function assertionAuthenticated(): string | undefined {
  return store.getStore();
}
