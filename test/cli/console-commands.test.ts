// `admin bootstrap --person EMAIL`: the admin console's first administrator,
// from a shell. Refused once an enabled person holds ADMIN_ROLE (as the
// service-account bootstrap refuses a second admin account); audited with the
// shell user as actor.
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { adminCli, errorLines } from '../helpers/cli.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('admin bootstrap --person', () => {
  let server: TestServer;
  const env = () => ({ ...process.env, ...server.env }) as Record<string, string>;
  const cli = adminCli(env);

  before(async () => {
    server = await startTestServer({ ADMIN_ROLE: 'ops-admin' });
  });
  after(() => server.stop());

  it('gives the first administrator ADMIN_ROLE, then refuses while an enabled one exists', async () => {
    const ada = await createUser(server);
    const grace = await createUser(server);

    const unknown = await cli('bootstrap', '--person', 'nobody@example.test');
    assert.equal(unknown.code, 1);
    assert.match(errorLines(unknown.stderr)[0]!, /a person with the email nobody@example\.test not found/);

    // As operators run it: a process of its own, its exit code and its JSON.
    const first = await adminCli(env, { process: true })('bootstrap', '--person', ada.email.toUpperCase(), '--json');
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), { user_id: ada.id, email: ada.email, role: 'ops-admin', console: `${server.issuer}/admin` });
    assert.deepEqual(await server.runtime.users.roles(ada.id), ['ops-admin']);
    const [row] = await server.runtime.audit.list({ type: 'admin.bootstrapped', userId: ada.id });
    assert.equal(row?.actor, `cli:${userInfo().username}`);
    assert.deepEqual(row?.detail, { role: 'ops-admin' });

    const second = await cli('bootstrap', '--person', grace.email);
    assert.equal(second.code, 1);
    assert.match(errorLines(second.stderr)[0]!, new RegExp(`an administrator already exists \\(${ada.email.replace(/[.]/g, '\\.')}\\)`));
    assert.deepEqual(await server.runtime.users.roles(grace.id), [], 'nothing was given');

    // Only an enabled administrator counts: with Ada disabled, Grace can be made one (the way back in).
    await server.runtime.users.update(ada.id, { disabled: true });
    const again = await cli('bootstrap', '--person', grace.email);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /now has the role ops-admin/);
    assert.deepEqual(await server.runtime.users.roles(grace.id), ['ops-admin']);

    const bare = await cli('bootstrap', '--person');
    assert.equal(bare.code, 2);
  });
});
