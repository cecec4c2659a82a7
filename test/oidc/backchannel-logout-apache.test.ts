// Back-channel logout proven with a relying party nobody here wrote: Apache
// with mod_auth_openidc, its back-channel logout endpoint registered. After
// the person logs out at Latchkey, Apache's session for them is gone.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startApache, type Apache } from '../helpers/apache.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { createUser, type TestPerson } from '../helpers/relying-party.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server.ts';

const MODULE = '/usr/lib/apache2/modules/mod_auth_openidc.so';

describe('back-channel logout with Apache mod_auth_openidc', { skip: existsSync(MODULE) ? false : `${MODULE} is not installed` }, () => {
  let server: TestServer;
  let apache: Apache;
  let person: TestPerson;

  before(async () => {
    // Apache listens on 127.0.0.1: back-channel posts there need the private-network allowance.
    server = await startTestServer({ ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
    person = await createUser(server);
    const port = await freePort();
    const app = `http://127.0.0.1:${port}`;
    const redirectUri = `${app}/protected/redirect_uri`;
    const { client, clientSecret } = await server.runtime.clients.create({
      name: 'Apache app',
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [`${app}/`],
      backchannelLogoutUri: `${redirectUri}?logout=backchannel`,
      backchannelLogoutSessionRequired: true,
    });
    apache = await startApache(
      { protected: 'AuthType openid-connect\nRequire valid-user' },
      {
        port,
        head: [
          `LoadModule auth_openidc_module ${MODULE}`,
          `OIDCProviderMetadataURL ${server.issuer}/.well-known/openid-configuration`,
          `OIDCClientID ${client.clientId}`,
          `OIDCClientSecret ${clientSecret}`,
          `OIDCRedirectURI ${redirectUri}`,
          `OIDCCryptoPassphrase ${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
          'OIDCScope "openid email"',
          'OIDCPKCEMethod S256',
          'OIDCSSLValidateServer Off',
          'OIDCCookieSameSite Off',
          // Node's fetch sends Sec-Fetch-Mode: cors, which the module takes for an XHR (401): always redirect.
          'OIDCUnAuthAction auth true',
          'LogLevel warn auth_openidc:info',
        ],
      },
    );
  });
  after(async () => {
    await apache?.stop();
    await server?.stop();
  });

  it("after the person logs out at Latchkey, Apache's session for them is gone", async () => {
    const browser = new Browser([server.url, apache.url]);
    let step = await browser.navigate(`${apache.url}/protected/ok.txt`);
    for (let i = 0; i < 4 && 'html' in step && !step.html.includes('protected content'); i++) {
      const page = step as Page;
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1];
      assert.ok(csrf, `unexpected page ${page.status} ${page.url}: ${page.html.slice(0, 300)} ${apache.errorLog().slice(-1500)}`);
      if (page.html.includes('name="password"')) {
        step = await browser.navigate(new URL(/action="([^"]*\/login)"/.exec(page.html)![1]!, page.url).href, {
          form: { csrf, email: person.email, password: person.password },
        });
      } else {
        step = await browser.navigate(new URL(/action="([^"]*\/confirm)"/.exec(page.html)![1]!, page.url).href, { form: { csrf } });
      }
    }
    assert.ok(
      'html' in step && step.html.includes('protected content'),
      `signed in to Apache: ${JSON.stringify(step).slice(0, 400)} ${apache.errorLog().slice(-1500)}`,
    );
    // Signed in at Apache: the page is served from its session, no trip to Latchkey.
    const again = await browser.request(`${apache.url}/protected/ok.txt`);
    assert.equal(again.status, 200);

    // Logout at Latchkey, as an operator ending the person's sessions would do it too.
    await server.runtime.sessions.signOutEverywhere(person.id);

    // Apache's session is gone once the logout token arrives: the same cookie is sent back to Latchkey.
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      const res = await browser.request(`${apache.url}/protected/ok.txt`);
      status = res.status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 302, `Apache still serves the person after the logout: ${apache.errorLog().slice(-2000)}`);
  });
});
