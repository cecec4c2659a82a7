// Introspection and key exchange as resource servers and scripts call them.
import type { TestServer } from './server.ts';

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export async function introspect(server: { issuer: string; url: string }, creds: { id: string; secret: string }, form: Record<string, string>) {
  const res = await fetch(`${server.url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(creds.id, creds.secret) },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A resource-server client (it may introspect) for `resources`. */
export async function resourceServerClient(server: TestServer, resources: string[]) {
  const { client, clientSecret } = await server.runtime.clients.create({ name: 'resource server', redirectUris: [], resourceServers: resources });
  return { id: client.clientId, secret: clientSecret! };
}

export async function exchange(server: { url: string }, form: Record<string, string>) {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token_type: 'urn:latchkey:params:oauth:token-type:api-key', ...form }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** How many database statements the server has run so far (its own metric). */
export async function statementCount(server: TestServer): Promise<number> {
  const { values } = await server.metrics.dbDuration.get();
  return values.filter((v) => v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0);
}
