// What machines do at the token endpoint, in the audit trail without making
// the audit trail the bottleneck or the victim:
//
// - Issued tokens are counted in memory per (hour, client, grant type) and
//   added to one row per such bucket (`bucket` is unique; an upsert adds the
//   count) every flush interval. A token request never waits for the audit
//   trail; a crash loses at most the counts of one flush interval.
// - Failures (bad assertion, wrong secret, replay, …) are kept one row each,
//   but at most `failuresPerMinute` per client (or address, when no client
//   is named) per minute on each node, and at most ten times that for all
//   clients together. The rest are tallied and written as one
//   `token_failures_suppressed` row per flush, so a flood of bad requests
//   adds a bounded number of rows, whatever ids it invents.
//
// - An API key used from an address it was not remembered to use: every such
//   use is counted per (hour, key) in one `api_key_new_addresses` row, as
//   issued tokens are; the first KEY_ADDRESS_ROWS_PER_MINUTE of them per key
//   per minute on each node (ten times that for all keys) also get an
//   `api_key_new_address` row naming the address (src/services/api-keys/api-keys.ts
//   writes it). A key cycling through more addresses than it remembers
//   therefore adds a bounded number of rows, not one per request.
//
// The sweep's audit retention deletes these rows like any other (by `at`).
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/database.ts';
import type { Logger } from '../../logger.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Clock } from '../../clock.ts';

export interface TokenFailure {
  /** The authenticated client, or the one the request claimed to be (`authenticated` says which). */
  clientId?: string;
  authenticated: boolean;
  endpoint: 'token' | 'introspection' | 'revocation';
  grantType?: string;
  error: string;
  description?: string;
  ip?: string;
  userAgent?: string;
}

export interface TokenUsageOptions {
  failuresPerMinute: number;
  log?: Logger;
  clock: Clock;
}

/** How many clients a suppressed-failures row names (the rest are summed as "other"). */
const NAMED_SUPPRESSED = 20;

interface FailureRow {
  id: string;
  at: Date;
  type: 'token_failed';
  clientId: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: string;
}

/** `api_key_new_address` rows per key per minute on each node (ten times that for all keys together). */
export const KEY_ADDRESS_ROWS_PER_MINUTE = 5;

export interface KeyUse {
  keyId: string;
  userId?: string;
  clientId?: string;
}

const hourOf = (ms: number) => new Date(Math.floor(ms / 3_600_000) * 3_600_000);
const clip = (s: string | undefined, n: number) => (s === undefined ? undefined : s.slice(0, n));

interface Bucket {
  hour: Date;
  count: number;
  /** The row as first created; later flushes add to its count. */
  row: { type: 'tokens_issued' | 'api_key_new_addresses'; userId?: string; clientId?: string; detail: Record<string, unknown> };
}

export function createTokenUsage(db: Db, opts: TokenUsageOptions) {
  let issued = new Map<string, Bucket>();
  let keyAddresses = { minute: 0, perKey: new Map<string, number>(), total: 0 };
  let failures: FailureRow[] = [];
  let window = { minute: 0, perKey: new Map<string, number>(), total: 0 };
  let suppressed = { count: 0, since: 0, byKey: new Map<string, number>() };
  let flushing: Promise<void> = Promise.resolve();

  async function addToBucket(bucket: string, { hour, row }: Bucket, count: number): Promise<void> {
    const upsert = () =>
      db.auditEvent.upsert({
        where: { bucket },
        create: {
          id: randomUUID(),
          at: hour,
          type: row.type,
          userId: row.userId ?? null,
          clientId: row.clientId ?? null,
          bucket,
          count,
          detail: JSON.stringify({ ...row.detail, hour: hour.toISOString() }),
        },
        update: { count: { increment: count } },
      });
    try {
      await upsert();
    } catch (err) {
      // Two nodes creating the same hour's row at once: the loser adds to the winner's.
      if (!isUniqueViolation(err)) throw err;
      await upsert();
    }
  }

  async function writeOut(): Promise<void> {
    const counts = issued;
    const rows = failures;
    const quiet = suppressed;
    issued = new Map();
    failures = [];
    suppressed = { count: 0, since: 0, byKey: new Map() };
    for (const [bucket, entry] of counts) {
      try {
        await addToBucket(bucket, entry, entry.count);
      } catch (err) {
        // Kept for the next flush: counts are small and bounded by the number of clients and keys.
        const again = issued.get(bucket);
        if (again) again.count += entry.count;
        else issued.set(bucket, entry);
        opts.log?.warn({ err: { message: (err as Error).message } }, 'token usage not written; retrying at the next flush');
        break;
      }
    }
    if (rows.length) await db.auditEvent.createMany({ data: rows });
    if (quiet.count) {
      const named = [...quiet.byKey.entries()].sort((a, b) => b[1] - a[1]);
      const top = Object.fromEntries(named.slice(0, NAMED_SUPPRESSED));
      const other = named.slice(NAMED_SUPPRESSED).reduce((n, [, c]) => n + c, 0);
      await db.auditEvent.create({
        data: {
          id: randomUUID(),
          type: 'token_failures_suppressed',
          count: quiet.count,
          detail: JSON.stringify({ since: new Date(quiet.since).toISOString(), by_client: top, ...(other ? { other } : {}) }),
        },
      });
    }
  }

  return {
    /** A token was issued. Costs a map update; written at the next flush. */
    issued(clientId: string, grantType: string, now = opts.clock.now()): void {
      const hour = hourOf(now);
      const bucket = `tokens_issued|${hour.toISOString()}|${clientId}|${grantType}`;
      const entry = issued.get(bucket);
      if (entry) entry.count += 1;
      else issued.set(bucket, { hour, count: 1, row: { type: 'tokens_issued', clientId, detail: { grant_type: grantType } } });
    },

    /**
     * An API key was used from an address it was not remembered to use:
     * counted in its hour's row (written at the next flush). True when this
     * use may also have a row of its own (within the per-minute bounds).
     */
    keyNewAddress(use: KeyUse, now = opts.clock.now()): boolean {
      const hour = hourOf(now);
      const bucket = `api_key_new_addresses|${hour.toISOString()}|${use.keyId}`;
      const entry = issued.get(bucket);
      if (entry) entry.count += 1;
      else {
        const owner = use.userId ? { userId: use.userId } : { clientId: use.clientId };
        issued.set(bucket, { hour, count: 1, row: { type: 'api_key_new_addresses', ...owner, detail: { key_id: use.keyId } } });
      }
      const minute = Math.floor(now / 60_000);
      if (minute !== keyAddresses.minute) keyAddresses = { minute, perKey: new Map(), total: 0 };
      const seen = keyAddresses.perKey.get(use.keyId) ?? 0;
      if (seen >= KEY_ADDRESS_ROWS_PER_MINUTE || keyAddresses.total >= KEY_ADDRESS_ROWS_PER_MINUTE * 10) return false;
      keyAddresses.perKey.set(use.keyId, seen + 1);
      keyAddresses.total += 1;
      return true;
    },

    /** A refused request: kept as its own row unless its client (or everyone) is over the per-minute bound. */
    failed(f: TokenFailure, now = opts.clock.now()): void {
      const minute = Math.floor(now / 60_000);
      if (minute !== window.minute) window = { minute, perKey: new Map(), total: 0 };
      const clientId = clip(f.clientId, 128);
      const key = clientId ?? `ip:${f.ip ?? 'unknown'}`;
      const seen = window.perKey.get(key) ?? 0;
      if (seen >= opts.failuresPerMinute || window.total >= opts.failuresPerMinute * 10) {
        if (suppressed.count === 0) suppressed.since = now;
        suppressed.count += 1;
        if (suppressed.byKey.has(key) || suppressed.byKey.size < NAMED_SUPPRESSED * 5) suppressed.byKey.set(key, (suppressed.byKey.get(key) ?? 0) + 1);
        else suppressed.byKey.set('other', (suppressed.byKey.get('other') ?? 0) + 1);
        return;
      }
      window.perKey.set(key, seen + 1);
      window.total += 1;
      failures.push({
        id: randomUUID(),
        at: new Date(now),
        type: 'token_failed',
        clientId: clientId ?? null,
        ip: f.ip ?? null,
        userAgent: clip(f.userAgent, 512) ?? null,
        detail: JSON.stringify({
          endpoint: f.endpoint,
          ...(f.grantType ? { grant_type: clip(f.grantType, 128) } : {}),
          error: clip(f.error, 64),
          ...(f.description ? { error_description: clip(f.description, 300) } : {}),
          ...(clientId && !f.authenticated ? { client_authenticated: false } : {}),
        }),
      });
    },

    /** Writes what was gathered since the last flush (one flush at a time). */
    flush(): Promise<void> {
      flushing = flushing.then(writeOut, writeOut);
      return flushing;
    },
  };
}

export type TokenUsage = ReturnType<typeof createTokenUsage>;
