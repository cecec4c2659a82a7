// The console's Overview over HTTP: the counts (each one count query), the
// sign-in charts (SVG drawn on the server, with their numbers as a table, from
// one grouped query on the audit trail's (type, at) index) and the most recent
// audit events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { SQLITE_SIGN_INS } from '../../src/db/sign-in-activity.ts';
import { pageText } from '../helpers/browser.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor } from './console-helpers.ts';

describe('the admin console: overview', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('counts people (and the disabled), apps, APIs, service accounts, sessions, keys expiring within 14 days, signing key stages', async () => {
    const rt = server.runtime;
    await rt.resources.create({ identifier: 'https://billing.example.test', scope: 'invoices.read' });
    const ada = await createUser(server);
    const grace = await createUser(server);
    await rt.users.update(grace.id, { disabled: true });
    await rt.clients.create({ name: 'Shop', redirectUris: ['https://shop.example.test/cb'] });
    await rt.clients.create({ name: 'Blog', redirectUris: ['https://blog.example.test/cb'] });
    await rt.serviceAccounts.create({ name: 'nightly', scope: 'invoices.read', generateKey: 'ES256' });
    await rt.apiKeys.create({ owner: { userId: ada.id }, name: 'soon', scope: 'invoices.read', expires: '10d' });
    await rt.apiKeys.create({ owner: { userId: ada.id }, name: 'later', scope: 'invoices.read', expires: '30d' });
    const admin = await personWithFactor(server, ['latchkey-admin']);
    const { browser } = await consoleAs(server, admin);
    const page = await browser.page(`${server.url}/admin`);
    const counts = pageText(page.html.slice(page.html.indexOf('id="counts"'), page.html.indexOf('</dl>')));
    assert.match(counts, /People 3 people, 1 of them disabled/);
    assert.match(counts, /Apps 2 /);
    assert.match(counts, new RegExp(`APIs ${(await rt.resources.list()).length} `), 'billing, and the ones Latchkey registers itself');
    assert.match(counts, /Service accounts 1 /);
    assert.match(counts, /Sessions 1 signed-in session/, "the administrator's own");
    assert.match(counts, /1 key expires in the next 14 days/);
    assert.match(counts, /2 signing, 0 published and signing soon, 0 retiring/);
    assert.match(pageText(page.html), /Recent audit events .*login_succeeded/);
  });

  it('charts sign-ins and failures per hour over 24 hours and per day over 30 days, as accessible SVG with the numbers in a table', async () => {
    const rt = server.runtime;
    const now = rt.clock.now();
    const HOUR = 3_600_000;
    const thisHour = Math.floor(now / HOUR) * HOUR;
    const event = (type: string, at: number, count?: number) =>
      rt.db.auditEvent.create({ data: { id: randomUUID(), type, at: new Date(at), ...(count ? { count } : {}) } });
    const before = await rt.admin.audit.signInActivity();
    // Three hours ago: 4 sign-ins and 2 failures; 10 days ago: 5 sign-ins and a tally of 7 failures; 31 days ago: outside both.
    for (let i = 0; i < 4; i++) await event('login_succeeded', thisHour - 3 * HOUR + i * 60_000);
    await event('login_failed', thisHour - 3 * HOUR + 10);
    await event('login_failed', thisHour - 3 * HOUR + 20);
    for (let i = 0; i < 5; i++) await event('login_succeeded', now - 10 * 24 * HOUR);
    await event('login_failed', now - 10 * 24 * HOUR, 7);
    await event('login_succeeded', now - 31 * 24 * HOUR);
    await event('token_failed', thisHour - 3 * HOUR);
    const after = await rt.admin.audit.signInActivity();
    assert.equal(after.hourly.length, 24);
    assert.equal(after.daily.length, 30);
    assert.equal(after.hourly.at(-1)!.at.getTime(), thisHour, 'the last hour is the current one');
    const grew = (a: typeof after.hourly, b: typeof after.hourly) => a.map((p, i) => [p.signIns - b[i]!.signIns, p.failures - b[i]!.failures]);
    const hourly = grew(after.hourly, before.hourly);
    assert.deepEqual(hourly[20], [4, 2], 'three hours ago');
    assert.equal(
      hourly.flat().reduce((a, b) => a + b, 0),
      6,
      'nothing else in the last 24 hours',
    );
    const daily = grew(after.daily, before.daily);
    assert.deepEqual(daily[19], [5, 7], 'ten days ago, the tally counted in full');
    assert.equal(
      daily.flat().reduce((a, b) => a + b, 0),
      18,
      'the 31-day-old sign-in and other event types are not counted',
    );

    const admin = await personWithFactor(server, ['latchkey-admin']);
    const { browser } = await consoleAs(server, admin);
    const page = await browser.page(`${server.url}/admin`);
    const svgs = [...page.html.matchAll(/<svg role="img" aria-labelledby="([^ "]+) ([^"]+)"/g)];
    assert.equal(svgs.length, 2, 'two charts, each an image with a name and a description');
    for (const [, title, desc] of svgs) {
      assert.match(page.html, new RegExp(`<title id="${title}">[^<]+</title>`));
      assert.match(page.html, new RegExp(`<desc id="${desc}">[^<]*sign-ins[^<]*</desc>`));
    }
    assert.equal([...page.html.matchAll(/<rect class="(ok|fail)"/g)].length > 0, true, 'bars are drawn');
    assert.doesNotMatch(page.html, /<script/, 'no script draws them');
    const table = page.html.slice(page.html.indexOf('id="sign-ins-daily-table"'));
    const rows = [...table.slice(0, table.indexOf('</table>')).matchAll(/<tr><th scope="row">/g)];
    assert.equal(rows.length, 30, 'a row per day, the numbers as text');
  });

  it('counts them with one statement on the (type, at) index', async () => {
    if (!server.runtime.config.databaseUrl.startsWith('file:')) return;
    const plan = (await server.runtime.db.$queryRawUnsafe(`EXPLAIN QUERY PLAN ${SQLITE_SIGN_INS}`, '2026-01-01T00:00:00.000+00:00')) as { detail: string }[];
    assert.match(plan.map((r) => r.detail).join('\n'), /USING (COVERING )?INDEX audit_events_type_at_idx/);
  });
});
