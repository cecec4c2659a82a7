// "First use of a key from a new address" in the audit trail, without
// letting one key flood it: a key cycling through more addresses than it
// remembers (50) is exchanged from a new address on every request, as an
// attacker holding it (or a botnet) would. Every such use is counted in one
// row per key and hour, as issued tokens are; at most a few get a row of
// their own per key per minute. The minute and the hour are moved with the
// server's clock, not waited for.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KEY_ADDRESS_ROWS_PER_MINUTE } from '../../../src/services/admin/token-usage.ts';
import { createUser } from '../../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const API = 'https://ledger.example.test';
const ROWS = KEY_ADDRESS_ROWS_PER_MINUTE;

describe('new addresses of an API key in the audit trail', () => {
  let server: TestServer;
  let userId: string;
  let address = 0;

  before(async () => {
    // Addresses come from X-Forwarded-For, as behind the operator's proxy; flushes are explicit.
    server = await startTestServer({ TRUST_PROXY: 'true', AUDIT_FLUSH_INTERVAL: '3600' });
    await server.runtime.resources.create({ identifier: API, scope: 'ledger.read' });
    userId = (await createUser(server)).id;
  });
  after(() => server.stop());

  const HOUR = 3_600_000;
  const nextHour = Math.ceil(Date.now() / HOUR) * HOUR;
  /** The server's clock runs on from `at` (one second after a boundary, so no batch straddles a minute by chance). */
  function clockFrom(at: number): void {
    const base = Date.now();
    server.runtime.clock.now = () => at + 1_000 + (Date.now() - base);
  }

  const newKey = async () => server.runtime.apiKeys.create({ owner: { userId }, name: 'roaming', scope: 'ledger.read' });
  /** `n` exchanges of `key`, each from an address never used before, ten at a time. */
  async function exchangeFromNewAddresses(key: string, n: number): Promise<void> {
    for (let done = 0; done < n; done += 10) {
      const statuses = await Promise.all(
        Array.from({ length: Math.min(10, n - done) }, async () => {
          address += 1;
          const from = address % 2 ? `198.51.${address >> 8}.${address & 255}` : `2001:db8::${address.toString(16)}`;
          const res = await fetch(`${server.url}/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
            body: new URLSearchParams({
              grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
              subject_token: key,
              subject_token_type: 'urn:latchkey:params:oauth:token-type:api-key',
              resource: API,
            }),
          });
          await res.arrayBuffer();
          return res.status;
        }),
      );
      assert.ok(
        statuses.every((s) => s === 200),
        statuses.join(','),
      );
    }
  }
  const rows = async (keyId: string, type: string) =>
    (await server.runtime.audit.list({ userId, type, limit: 10_000 })).filter((e) => e.detail?.key_id === keyId);
  /** The per-address rows are written after the answers (a use never waits for them). */
  async function settledRows(keyId: string, expected: number) {
    const until = Date.now() + 5000;
    let found = await rows(keyId, 'api_key_new_address');
    while (found.length < expected && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 25));
      found = await rows(keyId, 'api_key_new_address');
    }
    await new Promise((r) => setTimeout(r, 200)); // and nothing more arrives
    return rows(keyId, 'api_key_new_address');
  }
  const counted = async (keyId: string) => {
    await server.runtime.tokenUsage.flush();
    const hourly = await rows(keyId, 'api_key_new_addresses');
    return { rows: hourly.length, total: hourly.reduce((n, e) => n + e.count!, 0), hours: hourly.map((e) => e.detail!.hour) };
  };

  it('120 exchanges from 120 addresses: a few rows naming addresses, and one row counting all 120', async () => {
    clockFrom(nextHour);
    const { key, record } = await newKey();
    const before = (await server.runtime.audit.list({ limit: 100_000 })).length;
    await exchangeFromNewAddresses(key, 120);
    const named = await settledRows(record.id, ROWS);
    assert.equal(named.length, ROWS, `${named.length} api_key_new_address rows for 120 new addresses in a minute`);
    assert.ok(
      named.every((e) => e.ip),
      'each names its address',
    );
    const tally = await counted(record.id);
    assert.deepEqual({ rows: tally.rows, total: tally.total }, { rows: 1, total: 120 });
    const added = (await server.runtime.audit.list({ limit: 100_000 })).length - before;
    assert.ok(added <= ROWS + 1 + 1, `${added} audit rows for 120 exchanges (the key's creation aside)`);
    // The key's row is not rewritten for every one of them either: it remembers the addresses it had rows for.
    const stored = await server.runtime.db.apiKey.findUniqueOrThrow({ where: { id: record.id } });
    assert.equal((JSON.parse(stored.seenAddresses!) as string[]).length, ROWS);
  });

  it('the bound is per minute and the count per hour, on the clock the server reads', async () => {
    clockFrom(nextHour + 2 * HOUR);
    const { key, record } = await newKey();
    await exchangeFromNewAddresses(key, 20);
    assert.equal((await settledRows(record.id, ROWS)).length, ROWS);
    clockFrom(nextHour + 2 * HOUR + 60_000);
    await exchangeFromNewAddresses(key, 20);
    assert.equal((await settledRows(record.id, 2 * ROWS)).length, 2 * ROWS, 'a new minute, a few more rows');
    const sameHour = await counted(record.id);
    assert.deepEqual({ rows: sameHour.rows, total: sameHour.total }, { rows: 1, total: 40 });

    clockFrom(nextHour + 3 * HOUR);
    await exchangeFromNewAddresses(key, 10);
    const later = await counted(record.id);
    assert.deepEqual({ rows: later.rows, total: later.total }, { rows: 2, total: 50 }, `a new hour, a new counting row (${later.hours.join(', ')})`);
  });

  it("one key's flood does not take another key's rows: the bound is per key", async () => {
    clockFrom(nextHour + 5 * HOUR);
    const flood = await newKey();
    const quiet = await newKey();
    await exchangeFromNewAddresses(flood.key, 30);
    await exchangeFromNewAddresses(quiet.key, 1);
    assert.equal((await settledRows(quiet.record.id, 1)).length, 1);
  });
});
