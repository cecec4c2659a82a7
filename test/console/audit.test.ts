// The console's Audit page over HTTP: the admin API's filters (type or family,
// person, client, time), paging with its cursors, and the exports (CSV and
// JSON Lines in the admin API's wire shape) of exactly what the filters select;
// a CSV cell a spreadsheet would run as a formula is neutralised; an auditor
// may export; a bad filter is explained beside its field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditView } from '../../src/api/views.ts';
import { type Browser, pageText } from '../helpers/browser.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor } from './console-helpers.ts';

describe('the admin console: audit', () => {
  let server: TestServer;
  let browser: Browser;
  let person: { id: string };

  before(async () => {
    server = await startTestServer();
    const admin = await personWithFactor(server, ['latchkey-admin']);
    ({ browser } = await consoleAs(server, admin));
    person = await createUser(server);
    // 60 events of one person, one of them from a user agent that is a spreadsheet formula.
    for (let i = 0; i < 59; i++) await server.runtime.audit.record('login_failed', { userId: person.id, ip: '203.0.113.7' }, { reason: 'password' });
    await server.runtime.audit.record(
      'login_failed',
      { userId: person.id, ip: '203.0.113.7', userAgent: '=HYPERLINK("https://evil.example.test","x")' },
      { reason: 'password' },
    );
  });
  after(async () => {
    await server?.stop();
  });

  const listed = (html: string) => [...html.matchAll(/<strong><code>([a-z_.]+)<\/code><\/strong>/g)].map((m) => m[1]);

  it("filters by type and person, and pages with the admin API's cursors", async () => {
    const first = await browser.page(`${server.url}/admin/audit?type=login_failed&user_id=${person.id}`);
    assert.equal(listed(first.html).length, 50);
    assert.ok(listed(first.html).every((t) => t === 'login_failed'));
    const next = first.html.match(/href="(\/admin\/audit\?[^"]*cursor=[^"]+)"/)![1]!.replace(/&amp;/g, '&');
    assert.match(next, /type=login_failed/, 'the next page keeps the filters');
    const second = await browser.page(`${server.url}${next}`);
    assert.equal(listed(second.html).length, 10);
    assert.doesNotMatch(second.html, /cursor=[^"]*">Next page/);
    const family = await browser.page(`${server.url}/admin/audit?type=login_`);
    assert.equal(listed(family.html).length, 0, "a family ends in '.': a bare prefix is one type");
    const future = await browser.page(`${server.url}/admin/audit?since=2999-01-01T00:00`);
    assert.match(pageText(future.html), /No events match\./);
  });

  it('a bad filter is explained beside its field, and nothing is listed', async () => {
    const res = await browser.request(`${server.url}/admin/audit?since=yesterday&type=${'x'.repeat(101)}`);
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /id="audit-since"[^>]*aria-invalid="true"/);
    assert.match(html, /id="audit-type"[^>]*aria-invalid="true"/);
    assert.equal(listed(html).length, 0);
    const exported = await browser.request(`${server.url}/admin/audit/export.csv?since=yesterday`);
    assert.equal(exported.status, 400);
    await exported.arrayBuffer();
  });

  it('exports what the filters select as JSON Lines in the admin API wire shape, and as CSV without live formulas', async () => {
    const res = await browser.request(`${server.url}/admin/audit/export.jsonl?user_id=${person.id}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition')!, /^attachment; filename="audit-.+\.jsonl"$/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 60);
    const stored = await server.runtime.audit.list({ userId: person.id, limit: 100 });
    assert.deepEqual(lines, stored.map(auditView), 'the same objects as the admin API answers, newest first');

    const csv = await browser.request(`${server.url}/admin/audit/export.csv?user_id=${person.id}`);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    const rows = (await csv.text()).trim().split('\n');
    assert.equal(rows[0], 'id,at,type,actor,target,user_id,client_id,ip,user_agent,count,detail');
    assert.equal(rows.length, 61);
    const formula = rows.find((r) => r.includes('HYPERLINK'))!;
    assert.match(formula, /,"'=HYPERLINK\(""https:\/\/evil\.example\.test"",""x""\)",/, 'quoted, and prefixed so that it is text');
    assert.match(rows[1]!, /,"\{""reason"":""password""\}"$/, 'detail as JSON');
  });

  it('an auditor may read and export the trail', async () => {
    const auditor = await personWithFactor(server, ['latchkey-auditor']);
    const { browser: theirs } = await consoleAs(server, auditor);
    assert.equal((await theirs.page(`${server.url}/admin/audit`)).status, 200);
    const res = await theirs.request(`${server.url}/admin/audit/export.jsonl?type=login_failed`);
    assert.equal(res.status, 200);
    assert.equal((await res.text()).trim().split('\n').length, 60);
  });
});
