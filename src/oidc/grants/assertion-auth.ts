// Which client, if any, the current token request authenticates by its
// jwt-bearer assertion alone. Marked by the token pre-parser on the request
// before the provider handles it; read by the Client adapter in that request.
// Kept on the request's own object rather than in an AsyncLocalStorage of
// its own: src/oidc/provider-request.ts says why.
import { requestSlot } from '../../request-slot.ts';
import type { ServedRequest } from '../provider-request.ts';

const asserted = requestSlot<{ clientId: string }>('client authenticated by its assertion alone');

/** Marks `request` as authenticating `clientId` by its jwt-bearer assertion alone. */
export function markAssertionAuthenticated(request: ServedRequest, clientId: string): void {
  asserted.set(request, { clientId });
}

/** The client `request` authenticates by its assertion alone, if any. */
export function assertionAuthenticated(request: ServedRequest | undefined): string | undefined {
  return request && asserted.get(request)?.clientId;
}
