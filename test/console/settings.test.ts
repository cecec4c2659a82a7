// The console's Settings page over HTTP: every setting as it took effect and
// where it came from; a secret (or a URL that may carry a password) never
// shown, only whether it is set.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pageText } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { consoleAs, personWithFactor } from './console-helpers.ts';

describe('the admin console: settings', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      METRICS_TOKEN: 'metrics-token-that-must-not-show',
      SMTP_URL: 'smtp://mailer:hunter2-smtp-password@127.0.0.1:1',
      ADMIN_REAUTH: '7',
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('shows every setting, its value or default and its source, and secrets only as set', async () => {
    const auditor = await personWithFactor(server, ['latchkey-auditor']);
    const { browser } = await consoleAs(server, auditor);
    const page = await browser.page(`${server.url}/admin/settings`);
    for (const secret of [server.env.METRICS_TOKEN!, 'hunter2-smtp-password', server.env.LATCHKEY_KEY_ENCRYPTION_KEY!, server.env.DATABASE_URL!]) {
      assert.equal(page.html.includes(secret), false, 'no secret on the page');
    }
    const text = pageText(page.html);
    const entry = (name: string) => text.match(new RegExp(`${name} (.*?) · (from the environment|default)`))?.slice(1, 3);
    assert.deepEqual(entry('METRICS_TOKEN'), ['set', 'from the environment']);
    assert.deepEqual(entry('SMTP_URL'), ['set', 'from the environment']);
    assert.deepEqual(entry('ADMIN_REAUTH'), ['7', 'from the environment']);
    assert.deepEqual(entry('ACCESS_TOKEN_TTL'), ['3600', 'default']);
    assert.deepEqual(entry('RATE_LIMIT_API_KEYS'), ['10/3600', 'default']);
    assert.deepEqual(entry('DEFAULT_RESOURCE'), ['not set', 'default']);
    assert.equal([...page.html.matchAll(/<dt><code>/g)].length, server.runtime.config.settings.length, 'every setting');
  });
});
