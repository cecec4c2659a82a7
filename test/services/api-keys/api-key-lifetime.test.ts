// A person's API key has a longest lifetime (API_KEY_MAX_TTL, a year by
// default) and a default expiry, wherever it is made: the JSON API, the
// account page, the admin CLI. Tried as someone wanting a key that never
// dies would: `99999w`, the year 9999, a day over the limit; and a key from
// before the limit, used at introspection and at the exchange.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/env.ts';
import { signInToAccount } from '../../helpers/account.ts';
import { exchange, introspect, resourceServerClient } from '../../helpers/api-keys.ts';
import { Browser, csrfToken, pageText, type Page } from '../../helpers/browser.ts';
import { adminCli, errorLines } from '../../helpers/cli.ts';
import { codeFlow, createUser, registerClient, type TestPerson } from '../../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

const API = 'https://ledger.example.test';
const DAY = 86_400_000;
const FOREVER = ['99999w', '9999-12-31', '366d', new Date(Date.now() + 2 * 365 * DAY).toISOString().slice(0, 10)];

describe("a person's API key has a longest lifetime and a default expiry", () => {
  let server: TestServer;
  let person: TestPerson;
  let token: string;
  let cli: ReturnType<typeof adminCli>;
  let rs: { id: string; secret: string };

  before(async () => {
    server = await startTestServer();
    cli = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);
    await server.runtime.resources.create({ identifier: API, scope: 'ledger.read' });
    rs = await resourceServerClient(server, [API]);
    person = await createUser(server);
    const app = await registerClient(server, { apiScope: 'api-keys' });
    token = (await codeFlow(app, new Browser(server.url), person, { resource: `${server.issuer}/api`, scope: 'openid api-keys' })).tokens.access_token;
  });
  after(() => server.stop());

  const create = (body: Record<string, unknown>) =>
    fetch(`${server.url}/api/v1/me/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'k', scope: 'ledger.read', ...body }),
    });
  const keysOf = async (id: string) => (await server.runtime.apiKeys.list({ owner: { userId: id } })).length;

  it('`99999w`, far dates and a day past the limit are refused by the JSON API, the account page and the CLI', async () => {
    const answers = await Promise.all(FOREVER.map((expires) => create({ expires })));
    for (const [i, res] of answers.entries()) {
      assert.equal(res.status, 400, FOREVER[i]);
      assert.match(res.headers.get('content-type')!, /problem\+json/);
      assert.match(
        ((await res.json()) as { detail: string }).detail,
        /a person's key may live at most 365 days: choose an expiry no later than \d{4}-\d\d-\d\dT\d\d:\d\dZ/,
      );
    }

    const browser = new Browser(server.url);
    await signInToAccount(browser, server, person.email, person.password);
    const page = (await browser.navigate(`${server.url}/account/api-keys/new`)) as Page;
    // The form offers nothing longer than the limit: its longest choice is 365 days.
    assert.match(pageText(page.html), /Expires after 7 days 30 days 90 days 365 days Only/, 'the form offers only what is allowed');
    const posted = (await browser.navigate(`${server.url}/account/api-keys`, {
      form: { csrf: csrfToken(page.html), name: 'forever', scope: 'ledger.read', expires: '99999w', password: person.password },
    })) as Page;
    assert.equal(posted.status, 400);
    assert.match(pageText(posted.html), /at most 365 days/);

    for (const expires of FOREVER) {
      const r = await cli('api-key', 'create', '--owner', person.id, '--name', 'x', '--scope', 'ledger.read', '--expires', expires);
      assert.equal(r.code, 1, expires);
      assert.match(errorLines(r.stderr)[0]!, /may live at most 365 days/);
    }
    assert.equal(await keysOf(person.id), 0);

    const year = await create({ expires: '365d' });
    assert.equal(year.status, 201, 'the limit itself is allowed');
    const body = (await year.json()) as { expires_at: string };
    assert.ok(Math.abs(new Date(body.expires_at).getTime() - (Date.now() + 365 * DAY)) < 60_000);
  });

  it('a key made without an expiry expires in 90 days, from the JSON API and from the CLI', async () => {
    const res = await create({});
    assert.equal(res.status, 201);
    const viaApi = new Date(((await res.json()) as { expires_at: string }).expires_at).getTime();
    const r = await cli('api-key', 'create', '--owner', person.id, '--name', 'cli', '--scope', 'ledger.read', '--json');
    assert.equal(r.code, 0, r.stderr);
    const viaCli = new Date((JSON.parse(r.stdout) as { expires_at: string }).expires_at).getTime();
    for (const at of [viaApi, viaCli]) assert.ok(Math.abs(at - (Date.now() + 90 * DAY)) < 60_000, new Date(at).toISOString());
  });

  it("a service account's key is the operator's call: no expiry, or a long one", async () => {
    const sa = (await server.runtime.serviceAccounts.create({ name: 'backup', scope: 'ledger.read', generateKey: 'ES256' })).account.clientId;
    const none = await cli('api-key', 'create', '--owner', sa, '--name', 'forever', '--scope', 'ledger.read', '--json');
    assert.equal(none.code, 0, none.stderr);
    assert.equal((JSON.parse(none.stdout) as { expires_at: string | null }).expires_at, null);
    const long = await cli('api-key', 'create', '--owner', sa, '--name', 'decade', '--scope', 'ledger.read', '--expires', '3650d', '--json');
    assert.equal(long.code, 0, long.stderr);
  });

  it('a key from before the limit stops working once it is older than the limit, and its exchanged tokens never outlive it', async () => {
    const old = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'from before', scope: 'ledger.read' });
    const nearly = await server.runtime.apiKeys.create({ owner: { userId: person.id }, name: 'nearly', scope: 'ledger.read' });
    assert.equal((await introspect(server, rs, { token: old.key })).body.active, true, 'the control: active before');
    // As stored before the upgrade: no expiry, made a year and a day ago (and one made a year less ten minutes ago).
    await server.runtime.db.apiKey.update({ where: { id: old.record.id }, data: { expiresAt: null, createdAt: new Date(Date.now() - 366 * DAY) } });
    await server.runtime.db.apiKey.update({
      where: { id: nearly.record.id },
      data: { expiresAt: null, createdAt: new Date(Date.now() - 365 * DAY + 600_000) },
    });

    const tries = await Promise.all([introspect(server, rs, { token: old.key }), exchange(server, { subject_token: old.key, resource: API })]);
    assert.deepEqual(tries[0].body, { active: false });
    assert.equal(tries[1].body.error, 'invalid_grant');
    const listed = (await (await fetch(`${server.url}/api/v1/me/api-keys/${old.record.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      active: boolean;
      expires_at: string;
    };
    assert.equal(listed.active, false);
    assert.equal(
      new Date(listed.expires_at).getTime(),
      Date.parse((await server.runtime.db.apiKey.findUniqueOrThrow({ where: { id: old.record.id } })).createdAt.toISOString()) + 365 * DAY,
    );

    const swapped = await exchange(server, { subject_token: nearly.key, resource: API });
    assert.equal(swapped.status, 200);
    assert.ok(Number(swapped.body.expires_in) <= 600, `the exchanged token lives ${swapped.body.expires_in} s, not past the key`);
    const seen = await introspect(server, rs, { token: nearly.key });
    assert.ok(Number(seen.body.exp) <= Date.now() / 1000 + 600);
  });

  it('API_KEY_MAX_TTL takes seconds or a duration, and a bad value names the variable', () => {
    assert.equal(loadConfig({}).apiKeys.personMaxTtl, 365 * 86400);
    assert.equal(loadConfig({ API_KEY_MAX_TTL: '30d' }).apiKeys.personMaxTtl, 30 * 86400);
    assert.equal(loadConfig({ API_KEY_MAX_TTL: '7200' }).apiKeys.personMaxTtl, 7200);
    for (const bad of ['forever', '1y', '10m', '-5']) {
      assert.throws(
        () => loadConfig({ API_KEY_MAX_TTL: bad }),
        (err: Error) => err instanceof ConfigError && /API_KEY_MAX_TTL: must be at least an hour/.test(err.message),
        bad,
      );
    }
  });
});
