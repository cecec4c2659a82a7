// Clients that exist without a row: Latchkey's own account page and the
// client API-key exchanges run as. oidc-provider's adapter serves them
// (src/oidc/adapter.ts) before looking a row up, so a registered client or
// service account under one of these ids would be shadowed by them, or would
// make the audit trail and introspection answers ambiguous. The whole
// `latchkey-` prefix is kept for them: ids of this kind added later cannot
// collide with one an operator chose.

/** Our own first-party client (the account page): not an app the person authorized. */
export const ACCOUNT_CLIENT_ID = 'latchkey-account';

/**
 * The client a key exchange runs as (`none`, token exchange only), and the
 * client_id of tokens and introspection answers for keys people own.
 */
export const API_KEY_CLIENT_ID = 'latchkey-api-keys';

const BUILT_IN = new Set([ACCOUNT_CLIENT_ID, API_KEY_CLIENT_ID]);

/** A client that always exists while the server runs. */
export const isBuiltInClient = (clientId: string) => BUILT_IN.has(clientId);

/** Ids nobody may register: the built-in ones and anything else under their prefix, in any case. */
export const isReservedClientId = (clientId: string) => clientId.toLowerCase().startsWith('latchkey-');
