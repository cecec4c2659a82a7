// Introspection and key exchange as resource servers and scripts call them.
import type { TestServer } from './server.ts';
import { createChangeTracker } from '../../src/services/machines/config-cache.ts';

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
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token_type: 'urn:latchkey:params:oauth:token-type:api-key',
      ...form,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** How many database statements the server has run so far (its own metric). */
export async function statementCount(server: TestServer): Promise<number> {
  const { values } = await server.metrics.dbDuration.get();
  return values.filter((v) => v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0);
}

/** Narrows a service account's granted scope in its row (no admin command does this yet), and tells every node. */
export async function narrowServiceAccount(server: TestServer, clientId: string, scope: string) {
  const row = await server.runtime.db.client.findUniqueOrThrow({ where: { id: clientId } });
  const metadata = { ...(JSON.parse(row.metadata) as Record<string, unknown>), scope, default_scope: scope };
  await server.runtime.db.client.update({ where: { id: clientId }, data: { metadata: JSON.stringify(metadata) } });
  // Recorded as another node (an admin's CLI) would: this node sees it within CHECK_EVERY_MS.
  await createChangeTracker(server.runtime.db).changed('clients');
  const until = Date.now() + 5000;
  while ((await server.runtime.serviceAccounts.forAssertion(clientId))?.metadata.scope !== scope) {
    if (Date.now() > until) throw new Error(`the node did not see ${clientId}'s new scope`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
