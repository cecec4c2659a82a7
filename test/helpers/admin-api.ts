// The admin API as an integrator's script uses it: a service account signs a
// jwt-bearer assertion with jose, exchanges it for an access token for the
// admin API's resource, and calls the API with fetch.
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import { adminApiResource } from '../../src/services/admin/administration.ts';
import type { TestServer } from './server.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface Signer {
  clientId: string;
  key: JWK;
}

export async function assertionFor(server: TestServer, who: Signer, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: who.clientId, sub: who.clientId, aud: `${server.issuer}/token`, iat: now, exp: now + 120, jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: who.key.alg!, kid: who.key.kid })
    .sign(await importJWK(who.key, who.key.alg));
}

/** A token for `resource` (default: the admin API) by the jwt-bearer grant; throws with the server's reason. */
export async function tokenFor(server: TestServer, who: Signer, opts: { resource?: string; scope?: string } = {}): Promise<string> {
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: JWT_BEARER,
      assertion: await assertionFor(server, who),
      resource: opts.resource ?? adminApiResource(server.issuer),
      ...(opts.scope ? { scope: opts.scope } : {}),
    }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`token refused: ${res.status} ${body.error_description}`);
  return body.access_token;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON (problem documents too), or undefined for an empty body. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function adminClient(server: TestServer) {
  const base = `${server.url}/admin/api/v1`;
  return async (method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiAnswer> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
}

/** The first admin service account, as `admin bootstrap` makes it. */
export async function bootstrapAdmin(server: TestServer, name = 'terraform'): Promise<Signer> {
  const { account, privateJwk } = await server.runtime.admin.bootstrap({ kind: 'cli', osUser: 'test' }, { name, generateKey: 'ES256' });
  return { clientId: account.clientId, key: privateJwk! };
}
