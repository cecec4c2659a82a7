// The admin CLI for people and APIs: invitations, roles, a resource's person
// claims and a client's default resource — run as operators' scripts run it,
// against a live server sharing its database.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Browser, csrfToken, pageText, type Page } from '../helpers/browser.ts';
import { adminCli, errorLines } from '../helpers/cli.ts';
import { startMailCatcher, linkIn, type MailCatcher } from '../helpers/mail.ts';
import { createUser } from '../helpers/relying-party.ts';
import { startSecondNode, startTestServer, type TestServer } from '../helpers/server.ts';

async function accept(server: TestServer, url: string, form: { name: string; password: string; confirm?: string }) {
  const browser = new Browser(server.url);
  const page = (await browser.navigate(url)) as Page;
  if (page.status !== 200) return page;
  const token = page.html.match(/name="token" value="([^"]+)"/)![1]!;
  return (await browser.navigate(`${server.url}/invitation`, {
    form: { csrf: csrfToken(page.html), token, name: form.name, password: form.password, confirm: form.confirm ?? form.password },
  })) as Page;
}

describe('admin CLI: invitations (REGISTRATION=invite)', () => {
  let server: TestServer;
  let mail: MailCatcher;
  before(async () => {
    mail = await startMailCatcher();
    server = await startTestServer({ REGISTRATION: 'invite', SMTP_URL: mail.url });
  });
  after(async () => {
    await server.stop();
    await mail.close();
  });
  const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);

  it('user invite prints a one-time link; the person sets a strong password and signs in with a confirmed address; the link works once', async () => {
    const r = await admin('user', 'invite', '--email', 'Annie.Cannon@Example.test', '--name', 'Annie Cannon', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { email: string; url: string; expires_at: string; mailed: boolean };
    assert.equal(out.email, 'annie.cannon@example.test');
    assert.ok(out.url.startsWith(`${server.issuer}/invitation?token=`));
    assert.equal(out.mailed, false);
    assert.ok(new Date(out.expires_at).getTime() > Date.now() + 6 * 86400_000, 'INVITATION_TTL: 7 days');
    const token = new URL(out.url).searchParams.get('token')!;
    assert.equal(await server.runtime.db.linkToken.count({ where: { id: token } }), 0, 'stored only as a keyed hash');

    const page = (await new Browser(server.url).navigate(out.url)) as Page;
    assert.match(pageText(page.html), /invited to an account for annie\.cannon@example\.test/);
    assert.match(page.html, /name="name"[^>]*value="Annie Cannon"/);
    const weak = await accept(server, out.url, { name: 'Annie Cannon', password: 'annie.cannon' });
    assert.equal(weak.status, 400);
    assert.match(pageText(weak.html), /personal|guess/);
    const done = await accept(server, out.url, { name: 'Annie Jump Cannon', password: 'harvard spectral classes' });
    assert.equal(done.status, 200);
    assert.match(pageText(done.html), /Your account is ready/);
    const user = await server.runtime.users.findByEmail('annie.cannon@example.test');
    assert.equal(user?.emailVerified, true);
    assert.equal(user?.name, 'Annie Jump Cannon');
    assert.equal((await server.runtime.signIn.password(user!.email, 'harvard spectral classes', {})).kind, 'ok');
    const again = await accept(server, out.url, { name: 'Someone Else', password: 'another strong passphrase' });
    assert.equal(again.status, 400);
    assert.match(pageText(again.html), /already used/);
    const events = (await server.runtime.audit.list({ limit: 50 })).map((e) => e.type);
    assert.ok(events.includes('invitation_created') && events.includes('invitation_accepted'), events.join(' '));
  });

  it('--send mails the link too; inviting a registered address or a bad one is refused (exit 1)', async () => {
    const r = await admin('user', 'invite', '--email', 'henrietta@example.test', '--send', '--json');
    assert.equal(r.code, 0, r.stderr);
    const [message] = await mail.waitFor('henrietta@example.test');
    assert.match(message!.subject, /invited/);
    assert.equal(linkIn(message!, '/invitation?token='), JSON.parse(r.stdout).url);

    const person = await createUser(server);
    for (const args of [
      ['--email', person.email],
      ['--email', 'not-an-address'],
    ]) {
      const refused = await admin('user', 'invite', ...args, '--json');
      assert.equal(refused.code, 1, args.join(' '));
      assert.equal(errorLines(refused.stderr).length, 1);
      assert.equal(refused.stdout, '');
    }
    assert.equal((await admin('user', 'invite', '--json')).code, 2, 'usage');
  });
  it('only a command that sends mail loads the pages: with a theme that cannot be used, a read answers and --send is refused naming THEME_DIR', async () => {
    const theme = mkdtempSync(join(tmpdir(), 'latchkey-bad-theme-'));
    try {
      writeFileSync(join(theme, 'layout.njk'), '<script>alert(1)</script>');
      const themed = adminCli(() => ({ ...process.env, ...server.env, THEME_DIR: theme }) as Record<string, string>);
      const read = await themed('client', 'list', '--json');
      assert.equal(read.code, 0, read.stderr);
      assert.ok(Array.isArray(JSON.parse(read.stdout).clients));
      const send = await themed('user', 'invite', '--email', 'themed@example.test', '--send', '--json');
      assert.equal(send.code, 1);
      assert.match(errorLines(send.stderr)[0]!, /THEME_DIR: .*layout\.njk:1: a script/);
      const made = (await server.runtime.audit.list({ type: 'invitation_created', limit: 1000 })).filter((e) => e.detail?.email === 'themed@example.test');
      assert.deepEqual(made, [], 'refused before the invitation was made');
    } finally {
      rmSync(theme, { recursive: true, force: true });
    }
  });

  it('an invitation sent before REGISTRATION=off creates nothing after: the page says so (403), the form is refused', async () => {
    const r = await admin('user', 'invite', '--email', 'late.invitee@example.test', '--name', 'Late Invitee', '--json');
    assert.equal(r.code, 0, r.stderr);
    const { url } = JSON.parse(r.stdout) as { url: string };
    // The operator turns invitations off (a node started with REGISTRATION=off on the same database).
    const off = await startSecondNode(server, { REGISTRATION: 'off' });
    try {
      const browser = new Browser([server.url, off.url]);
      // The page opened before the switch…
      const before = (await browser.navigate(url)) as Page;
      assert.equal(before.status, 200);
      // …and after it.
      const page = (await browser.navigate(url.replace(server.issuer, off.url))) as Page;
      assert.equal(page.status, 403);
      assert.match(pageText(page.html), /This invitation cannot be used New accounts cannot be created here any more/);
      // The form opened before is sent after.
      const token = new URL(url).searchParams.get('token')!;
      const posted = (await browser.navigate(`${off.url}/invitation`, {
        form: { csrf: csrfToken(before.html), token, name: 'Late Invitee', password: 'harvard spectral classes', confirm: 'harvard spectral classes' },
      })) as Page;
      assert.equal(posted.status, 403);
      assert.equal(await server.runtime.users.findByEmail('late.invitee@example.test'), undefined, 'no account');
    } finally {
      await off.stop();
    }
    // Where invitations are on, the link was not spent.
    assert.equal((await accept(server, url, { name: 'Late Invitee', password: 'harvard spectral classes' })).status, 200);
  });
});

describe('admin CLI: roles, resource claims, default resources', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());
  const admin = adminCli(() => ({ ...process.env, ...server.env }) as Record<string, string>);

  it('user create refuses a name of several lines (it would go into pages, tokens and mail as it is)', async () => {
    const refused = await admin(
      'user',
      'create',
      '--email',
      `lines-${Date.now()}@example.test`,
      '--password',
      'correct horse battery staple',
      '--name',
      'Ada\nClaim your prize at https://evil.test',
      '--json',
    );
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(errorLines(refused.stderr).join('\n'), /name must be one line/);
    assert.equal(await server.runtime.db.user.count({ where: { name: { contains: 'evil.test' } } }), 0);
  });

  it('user add-role / remove-role change what user show and user list say, and are audited', async () => {
    const person = await createUser(server);
    const add = await admin('user', 'add-role', person.id, 'billing-admin', '--json');
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual(JSON.parse(add.stdout), { id: person.id, roles: ['billing-admin'], changed: true });
    await admin('user', 'add-role', person.id, 'auditor', '--json');
    const shown = JSON.parse((await admin('user', 'show', person.id, '--json')).stdout);
    assert.deepEqual(shown.roles, ['auditor', 'billing-admin']);
    assert.deepEqual(shown.passkeys, []);
    const removed = JSON.parse((await admin('user', 'remove-role', person.id, 'billing-admin', '--json')).stdout);
    assert.deepEqual(removed.roles, ['auditor']);
    const listed = JSON.parse((await admin('user', 'list', '--json')).stdout) as { users: { id: string; roles: string[] }[] };
    assert.deepEqual(listed.users.find((u) => u.id === person.id)?.roles, ['auditor']);
    const bad = await admin('user', 'add-role', person.id, 'has spaces', '--json');
    assert.equal(bad.code, 1, 'a role must be a plain token');
    assert.match(errorLines(bad.stderr)[0]!, /role "has spaces" must be/);
    const invalid = await admin('user', 'add-role', person.id, '-dash-first', '--json');
    assert.notEqual(invalid.code, 0);
    const types = (await server.runtime.audit.list({ userId: person.id })).map((e) => e.type);
    assert.deepEqual(types.filter((t) => t.startsWith('role_')).sort(), ['role_added', 'role_added', 'role_removed']);
  });

  it('resource create --claims accepts email, email_verified, name, roles and refuses anything else', async () => {
    const ok = await admin(
      'resource',
      'create',
      '--identifier',
      'https://people.example.test',
      '--scope',
      'people.read',
      '--claims',
      'email name roles',
      '--json',
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).claims, ['email', 'name', 'roles']);
    const bad = await admin('resource', 'create', '--identifier', 'https://bad.example.test', '--scope', 'x.read', '--claims', 'email password', '--json');
    assert.equal(bad.code, 1);
    assert.match(errorLines(bad.stderr)[0]!, /unknown claim "password"/);
  });

  it('resource create --protected-resource-metadata prints the RFC 9728 document the API serves, naming this issuer', async () => {
    const res = await admin(
      'resource',
      'create',
      '--identifier',
      'https://mcp.example.test/mcp',
      '--scope',
      'tools.read tools.call',
      '--protected-resource-metadata',
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), {
      resource: 'https://mcp.example.test/mcp',
      authorization_servers: [server.issuer],
      scopes_supported: ['tools.read', 'tools.call'],
      bearer_methods_supported: ['header'],
    });
    // The authorization server it names answers RFC 8414 metadata.
    assert.equal((await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).status, 200);
  });

  it('client create --default-resource needs a registered resource the client has API scopes at', async () => {
    await admin('resource', 'create', '--identifier', 'https://cmdb.example.test', '--scope', 'cmdb.read reports.read', '--json');
    const base = ['client', 'create', '--name', 'Reports', '--redirect-uri', 'https://reports.example.test/cb'];
    const unknown = await admin(...base, '--api-scope', 'cmdb.read', '--default-resource', 'https://nowhere.example.test', '--json');
    assert.equal(unknown.code, 1);
    assert.match(errorLines(unknown.stderr)[0]!, /is not registered/);
    const ungranted = await admin(...base, '--default-resource', 'https://cmdb.example.test', '--json');
    assert.equal(ungranted.code, 1);
    assert.match(errorLines(ungranted.stderr)[0]!, /must be granted one of its scopes/);
    const ok = await admin(...base, '--api-scope', 'cmdb.read reports.read', '--default-resource', 'https://cmdb.example.test', '--json');
    assert.equal(ok.code, 0, ok.stderr);
    const shown = JSON.parse((await admin('client', 'show', JSON.parse(ok.stdout).client_id, '--json')).stdout);
    assert.equal(shown.default_resource, 'https://cmdb.example.test');
  });
});
