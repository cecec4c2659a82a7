// Prometheus metrics (prom-client). One registry per server instance, so
// that several in one process (tests) do not collide.
import client from 'prom-client';
import type { Db } from './db/database.ts';

/** The tables whose row counts are published, each one query. */
export const TABLES = {
  oidc_payloads: (db: Db) => db.oidcPayload.count(),
  users: (db: Db) => db.user.count(),
  clients: (db: Db) => db.client.count(),
  client_keys: (db: Db) => db.clientKey.count(),
  signing_keys: (db: Db) => db.signingKey.count(),
  recovery_codes: (db: Db) => db.recoveryCode.count(),
  audit_events: (db: Db) => db.auditEvent.count(),
  rate_limits: (db: Db) => db.rateLimit.count(),
  resource_servers: (db: Db) => db.resourceServer.count(),
  lockouts: (db: Db) => db.lockout.count(),
  link_tokens: (db: Db) => db.linkToken.count(),
  passkeys: (db: Db) => db.passkey.count(),
  user_roles: (db: Db) => db.userRole.count(),
} as const;

/** Row counts are full scans on big tables: at most one round of them per minute, whatever the scrape rate. */
const TABLE_COUNT_TTL_MS = 60_000;

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'latchkey_process_' });
  const registers = [registry];
  let db: Db | undefined;
  let counted: { at: number; counts: Promise<(readonly [string, number])[]> } | undefined;
  const countTables = (database: Db) => {
    if (!counted || Date.now() - counted.at > TABLE_COUNT_TTL_MS) {
      const counts = Promise.all(Object.entries(TABLES).map(async ([table, count]) => [table, await count(database)] as const));
      counted = { at: Date.now(), counts };
      counts.catch(() => (counted = undefined));
    }
    return counted.counts;
  };

  const metrics = {
    registry,
    tokensIssued: new client.Counter({
      name: 'latchkey_tokens_issued_total',
      help: 'Token endpoint successes, by grant type',
      labelNames: ['grant_type'],
      registers,
    }),
    tokenErrors: new client.Counter({
      name: 'latchkey_token_errors_total',
      help: 'Token endpoint refusals, by OAuth error code',
      labelNames: ['error'],
      registers,
    }),
    logins: new client.Counter({ name: 'latchkey_logins_total', help: 'Sign-in outcomes', labelNames: ['result'], registers }),
    lockouts: new client.Counter({ name: 'latchkey_lockouts_total', help: 'Accounts locked after repeated failures', registers }),
    httpDuration: new client.Histogram({
      name: 'latchkey_http_request_duration_seconds',
      help: 'HTTP request latency, by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    dbDuration: new client.Histogram({
      name: 'latchkey_db_query_duration_seconds',
      help: 'Database query latency',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    tableRows: new client.Gauge({
      name: 'latchkey_table_rows',
      help: 'Rows per table (counted at most once a minute)',
      labelNames: ['table'],
      registers,
      async collect() {
        if (!db) return;
        for (const [table, n] of await countTables(db)) this.set({ table }, n);
      },
    }),
    /** Table counts need the database, which exists only after the metrics do (it reports query latency here). */
    watchTables(database: Db) {
      db = database;
    },
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
