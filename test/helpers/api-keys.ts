// Introspection and key exchange as resource servers and scripts call them.
import { advanceClock, type TestServer } from './server.ts';
import { POLL_MS } from '../../src/oidc/backchannel-logout.ts';
import { CHECK_EVERY_MS, createChangeTracker } from '../../src/services/machines/config-cache.ts';

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

/** How many database statements the server has run so far (its own metric): reads (`query`), writes (`execute`), or both. */
export async function statementCount(server: TestServer, operation?: 'query' | 'execute'): Promise<number> {
  const { values } = await server.metrics.dbDuration.get();
  return values.filter((v) => v.metricName?.endsWith('_count') && (!operation || v.labels.operation === operation)).reduce((n, v) => n + v.value, 0);
}

/**
 * The statements `run` makes, counted with the server's clock standing still.
 * The config caches compare versions on that clock: `settle` runs first, with
 * the clock moved past CHECK_EVERY_MS, and takes the comparison (and the reload
 * a change made earlier asks for) out of the count; none runs while the clock
 * stands. What still runs on a timer of its own is the back-channel logout's
 * look for notices owed: `polls` is how many of those fit in the time `run`
 * took. (The token counts' flush and the key refresh write on timers too: give
 * the server AUDIT_FLUSH_INTERVAL and KEY_REFRESH_INTERVAL of an hour.)
 */
export async function statementsWhileClockStands(server: TestServer, settle: () => Promise<void>, run: () => Promise<void>, operation?: 'query' | 'execute') {
  advanceClock(server, CHECK_EVERY_MS);
  await settle();
  const { clock } = server.runtime;
  const running = clock.now;
  const stopped = clock.now();
  clock.now = () => stopped;
  const before = await statementCount(server, operation);
  const started = Date.now();
  try {
    await run();
  } finally {
    clock.now = running;
  }
  return { spent: (await statementCount(server, operation)) - before, polls: Math.ceil((Date.now() - started) / POLL_MS) + 1 };
}

/** Narrows a service account's granted scope in its row (no admin command does this yet), and tells every node. */
export async function narrowServiceAccount(server: TestServer, clientId: string, scope: string) {
  const row = await server.runtime.db.client.findUniqueOrThrow({ where: { id: clientId } });
  const metadata = { ...(JSON.parse(row.metadata) as Record<string, unknown>), scope, default_scope: scope };
  await server.runtime.db.client.update({ where: { id: clientId }, data: { metadata: JSON.stringify(metadata) } });
  // Recorded as another node (an admin's CLI) would: this node sees it within CHECK_EVERY_MS.
  await createChangeTracker(server.runtime.db, server.runtime.clock).changed('clients');
  const until = Date.now() + 5000;
  while ((await server.runtime.serviceAccounts.forAssertion(clientId))?.metadata.scope !== scope) {
    if (Date.now() > until) throw new Error(`the node did not see ${clientId}'s new scope`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
