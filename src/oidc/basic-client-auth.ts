// A resource server checking an API key with HTTP Basic client credentials
// does not need the provider's whole introspection pipeline (its context,
// client-authentication middleware chain, structured-token check, a token
// lookup for the placeholder) only for the answer to be replaced by ours:
// that pipeline cost as much CPU as the key check itself. Nor does one
// checking the provider's opaque tokens (src/oidc/opaque-token-introspection.ts).
//
// This is the one caller it answers without the provider: a request whose
// only credentials are a well-formed `Authorization: Basic` header of a
// client registered for client_secret_basic or client_secret_post, whose
// secret is current and matches. It decides with the provider's own parts
// (Client.find, the client's secret-expiry check, its compareClientSecret,
// src/oidc/client-secrets.ts), so a client the provider refuses is never
// accepted here. Anything else, a refusal or a failed lookup included, returns
// undefined and the request goes through the provider unchanged: its errors,
// its events, its WWW-Authenticate header and its rate-limit accounting stay
// the only ones. The answer differs from the provider's only by its CORS
// headers, which no resource server reads (a browser's request, with an
// Origin, goes through the provider). A failure after this decided (a
// database read) sends the request through the provider as well.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

/** Client authentication by other means, which the provider alone handles (RFC 7521/7523, attestation, DPoP, CORS). */
const OTHER_MEANS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];
const OTHER_HEADERS = ['oauth-client-attestation', 'oauth-client-attestation-pop', 'dpop', 'origin'];
/** What RFC 6749 §2.3.1 allows in a form-encoded client_id or secret, as the provider checks it. */
const VSCHAR = /^[\x20-\x7E]*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

type ProviderClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>> & {
  readonly introspectionEncryptedResponseAlg?: string;
  /** The provider's own check (throws when the secret has expired, with its clock tolerance); not in its published types. */
  checkClientSecretExpiration(message: string): void;
};

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header) return undefined;
  const parts = header.split(' ');
  if (parts.length !== 2 || parts[0]!.toLowerCase() !== 'basic' || !BASE64.test(parts[1]!) || parts[1]!.length % 4 !== 0) return undefined;
  const basic = Buffer.from(parts[1]!, 'base64').toString('utf8');
  const colon = basic.indexOf(':');
  if (colon < 1) return undefined;
  try {
    const id = decodeURIComponent(basic.slice(0, colon).replace(/\+/g, '%20'));
    const secret = decodeURIComponent(basic.slice(colon + 1).replace(/\+/g, '%20'));
    return id && secret && VSCHAR.test(id) && VSCHAR.test(secret) ? { id, secret } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The client a form POST authenticates with HTTP Basic alone, when the
 * provider would authenticate it too; otherwise undefined (let the provider
 * answer). `body` is the parsed form (repeated parameters are arrays).
 */
export async function basicClientOf(ctx: Context, body: Record<string, unknown>, provider: Provider): Promise<ProviderClient | undefined> {
  if (OTHER_MEANS.some((p) => body[p] !== undefined) || OTHER_HEADERS.some((h) => ctx.headers[h] !== undefined)) return undefined;
  const credentials = basicCredentials(ctx.headers.authorization);
  if (!credentials) return undefined;
  // A URL is a client metadata document's id: resolving it fetches, which the provider alone does, once.
  if (/^https?:/i.test(credentials.id)) return undefined;
  let client: ProviderClient | undefined;
  try {
    client = (await provider.Client.find(credentials.id)) as ProviderClient | undefined;
  } catch {
    // A registration the provider cannot use: its own lookup throws again, inside its error handling.
    return undefined;
  }
  if (!client || (client.clientAuthMethod !== 'client_secret_basic' && client.clientAuthMethod !== 'client_secret_post')) return undefined;
  // A client whose introspection answers are signed or encrypted JWTs (RFC 9701) gets them from the provider.
  if (client.introspectionSignedResponseAlg || client.introspectionEncryptedResponseAlg) return undefined;
  try {
    client.checkClientSecretExpiration('expired');
  } catch {
    return undefined;
  }
  return (await client.compareClientSecret(credentials.secret)) ? client : undefined;
}
