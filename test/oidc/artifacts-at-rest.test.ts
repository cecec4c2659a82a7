// What someone who reads the database (or a backup of it) gets: no token,
// code or session they could use, and a file only its owner can read.
import assert from 'node:assert/strict';
import { statSync, existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sqliteFile } from '../../src/db/database.ts';
import { Browser } from '../helpers/browser.ts';
import { authRequest, codeFlow, createUser, registerClient, type TestClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('a copy of the database holds no usable token, code or session', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    server = await startTestServer({ LOGIN_INTERACTION_TTL: '120', INTERACTION_TTL: '3600' });
    client = await registerClient(server);
  });
  after(() => server.stop());

  async function dump(): Promise<string> {
    const db = server.runtime.db;
    const tables = await Promise.all([
      db.oidcPayload.findMany(),
      db.user.findMany(),
      db.client.findMany(),
      db.auditEvent.findMany(),
      db.lockout.findMany(),
      db.rateLimit.findMany(),
    ]);
    return JSON.stringify(tables);
  }

  it('access, refresh and ID tokens, the code and the session cookie appear nowhere in the database', async () => {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    const { tokens, callback } = await codeFlow(client, browser, person, { scope: 'openid offline_access', prompt: 'consent' });
    const secrets = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token!,
      code: callback.searchParams.get('code')!,
      session: browser.cookie('_session')!,
    };
    for (const [name, value] of Object.entries(secrets)) assert.ok(value && value.length >= 20, `${name} present`);
    const everything = await dump();
    for (const [name, value] of Object.entries(secrets)) assert.ok(!everything.includes(value), `${name} is not stored in clear`);
    // …and the stored forms still work.
    assert.equal((await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 200);
  });

  it('a sign-in in progress stores neither its own id nor the session cookie; logs name no interaction id', async () => {
    const person = await createUser(server);
    const browser = new Browser(server.url);
    await codeFlow(client, browser, person);
    const session = browser.cookie('_session')!;
    // A signed-in person's consent interaction carries a session; its id and the cookie must not be stored.
    const consent = (await browser.navigate((await authRequest(client, { prompt: 'consent' })).url.href)) as import('../helpers/browser.ts').Page;
    const uid = new URL(consent.url).pathname.split('/')[2]!;
    assert.ok(uid && uid.length >= 20, consent.url);
    const everything = await dump();
    assert.ok(!everything.includes(uid), 'the interaction id is stored nowhere');
    assert.ok(!everything.includes(session), 'the session cookie is stored nowhere');
    assert.ok(!server.logs.join('\n').includes(uid), 'nor logged');
  });

  it('the SQLite file and its journal files are readable by their owner only', { skip: !!process.env.TEST_POSTGRES_URL && 'PostgreSQL run' }, () => {
    const file = sqliteFile(server.env.DATABASE_URL!);
    let seen = 0;
    for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
      if (!existsSync(f)) continue;
      seen++;
      assert.equal((statSync(f).mode & 0o777).toString(8), '600', f);
    }
    assert.ok(seen >= 1);
  });

  it('a sign-in page opened by nobody in particular is kept for LOGIN_INTERACTION_TTL only; a signed-in one for INTERACTION_TTL', async () => {
    await server.runtime.db.oidcPayload.deleteMany({ where: { type: 'Interaction' } });
    const anonymous = new Browser(server.url);
    await anonymous.navigate((await authRequest(client)).url.href);
    const newest = async () => (await server.runtime.db.oidcPayload.findMany({ where: { type: 'Interaction' }, orderBy: { expiresAt: 'desc' }, take: 1 }))[0]!;
    const short = (await newest()).expiresAt!.getTime() - Date.now();
    assert.ok(short > 100_000 && short <= 120_000, `anonymous interaction lives ${short} ms`);

    const person = await createUser(server);
    const signedIn = new Browser(server.url);
    await codeFlow(client, signedIn, person);
    await server.runtime.db.oidcPayload.deleteMany({ where: { type: 'Interaction' } });
    await signedIn.navigate((await authRequest(client, { prompt: 'consent' })).url.href);
    const long = (await newest()).expiresAt!.getTime() - Date.now();
    assert.ok(long > 3_500_000, `a signed-in person's interaction lives ${long} ms`);
  });
});

describe('authorization and logout requests per address are bounded', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    server = await startTestServer({ RATE_LIMIT_AUTHORIZE: '5/60' });
    client = await registerClient(server);
  });
  after(() => server.stop());

  it('beyond the budget the authorization endpoint answers 429 and stores nothing more', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch((await authRequest(client)).url.href, { redirect: 'manual', headers: { accept: 'text/html' } });
      statuses.push(res.status);
    }
    assert.deepEqual(
      statuses.slice(0, 5).every((s) => s === 303 || s === 302),
      true,
      statuses.join(','),
    );
    assert.deepEqual(statuses.slice(5), [429, 429, 429]);
    assert.equal(await server.runtime.db.oidcPayload.count({ where: { type: 'Interaction' } }), 5);
  });

  it('an anonymous logout request stores a short-lived session at most, and is limited per address', async () => {
    const res = await fetch(`${server.url}/session/end?state=${'x'.repeat(100)}`, { redirect: 'manual', headers: { accept: 'text/html', 'x-real': '1' } });
    assert.ok(res.status === 200 || res.status === 429, String(res.status));
    for (const row of await server.runtime.db.oidcPayload.findMany({ where: { type: 'Session', accountId: null } })) {
      assert.ok(row.expiresAt!.getTime() - Date.now() <= 900_000, 'no 14-day row for nobody');
    }
    const more = await Promise.all(Array.from({ length: 6 }, () => fetch(`${server.url}/session/end`, { headers: { accept: 'text/html' } })));
    assert.ok(
      more.some((r) => r.status === 429),
      more.map((r) => r.status).join(','),
    );
  });
});
