import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/env.ts';

const kek = Buffer.alloc(32, 7).toString('base64');

describe('configuration', () => {
  it('runs with no environment at all on the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.issuer, 'http://localhost:3000');
    assert.equal(c.databaseUrl, 'file:./data/latchkey.db');
    assert.equal(c.bcryptCost, 12);
    assert.equal(c.passwordHashNice, 19);
    assert.equal(c.production, false);
    assert.equal(c.secureCookies, false);
    assert.equal(c.ttl.accessToken, 3600);
    assert.ok(Object.isFrozen(c));
  });

  it('derives the issuer from PORT and strips a trailing slash from ISSUER', () => {
    assert.equal(loadConfig({ PORT: '8080' }).issuer, 'http://localhost:8080');
    assert.equal(loadConfig({ ISSUER: 'https://id.example.com/', TRUST_PROXY: 'true' }).issuer, 'https://id.example.com');
  });

  it('names every bad variable', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', ACCESS_TOKEN_TTL: '-5', DATABASE_URL: 'mysql://x' }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /PORT/);
        assert.match(err.message, /ACCESS_TOKEN_TTL/);
        assert.match(err.message, /DATABASE_URL/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ LATCHKEY_KEY_ENCRYPTION_KEY: 'c2hvcnQ=' }), /LATCHKEY_KEY_ENCRYPTION_KEY/);
    assert.throws(() => loadConfig({ ISSUER: 'ftp://x' }), /ISSUER/);
    assert.throws(() => loadConfig({ TRUST_PROXY: 'maybe' }), /TRUST_PROXY/);
    assert.throws(() => loadConfig({ PASSWORD_HASH_NICE: '20' }), /PASSWORD_HASH_NICE/);
    assert.throws(() => loadConfig({ PASSWORD_HASH_NICE: '-1' }), /PASSWORD_HASH_NICE/);
    assert.throws(() => loadConfig({ PASSWORD_HASH_NICE: '1.5' }), /PASSWORD_HASH_NICE/);
    assert.throws(() => loadConfig({ API_RESOURCE: 'not a url' }), /API_RESOURCE/);
    assert.throws(() => loadConfig({ API_RESOURCE: 'https://x.example/api#frag' }), /API_RESOURCE: must not contain a fragment/);
  });

  it("Latchkey's own API resource defaults to the issuer's /api", () => {
    assert.equal(loadConfig({ PORT: '8080' }).apiResource, 'http://localhost:8080/api');
    assert.equal(loadConfig({ API_RESOURCE: 'https://api.example.com/latchkey' }).apiResource, 'https://api.example.com/latchkey');
  });

  it('production refuses to start without a key-encryption key or with an http issuer', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', ISSUER: 'https://id.example.com', TRUST_PROXY: 'true' }), /LATCHKEY_KEY_ENCRYPTION_KEY: required/);
    assert.throws(() => loadConfig({ NODE_ENV: 'production', LATCHKEY_KEY_ENCRYPTION_KEY: kek }), /ISSUER: must be an https/);
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', LATCHKEY_KEY_ENCRYPTION_KEY: kek, ISSUER: 'https://id.example.com' }),
      /TRUST_PROXY: must be true/,
    );
    const c = loadConfig({ NODE_ENV: 'production', LATCHKEY_KEY_ENCRYPTION_KEY: kek, ISSUER: 'https://id.example.com', TRUST_PROXY: 'true' });
    assert.equal(c.secureCookies, true);
  });

  it('metrics live on a loopback listener of their own unless put on the main port behind a token', () => {
    const d = loadConfig({});
    assert.equal(d.metricsPort, 9464);
    assert.equal(d.metricsHost, '127.0.0.1');
    assert.equal(d.metricsOnMainPort, false);
    assert.equal(loadConfig({ METRICS_PORT: 'off' }).metricsPort, undefined);
    assert.throws(() => loadConfig({ METRICS_PORT: '3000' }), /METRICS_TOKEN: required when METRICS_PORT is the main PORT/);
    const main = loadConfig({ METRICS_PORT: '3000', METRICS_TOKEN: 'a-long-enough-token-1234' });
    assert.equal(main.metricsOnMainPort, true);
    assert.equal(main.metricsPort, undefined);
    assert.throws(() => loadConfig({ METRICS_PORT: 'nine' }), /METRICS_PORT/);
    assert.throws(() => loadConfig({ METRICS_HOST: '0.0.0.0' }), /METRICS_TOKEN: required when METRICS_HOST \(0\.0\.0\.0\) is not a loopback address/);
    assert.equal(loadConfig({ METRICS_HOST: '0.0.0.0', METRICS_TOKEN: 'a-long-enough-token-1234' }).metricsHost, '0.0.0.0');
    assert.throws(() => loadConfig({ PORT: '9464' }), /METRICS_PORT: its default, 9464, is also PORT/);
  });

  it('the admin console is under /admin unless ADMIN_CONSOLE_PORT gives it a loopback listener of its own; bad settings are named', () => {
    assert.equal(loadConfig({}).console.listener, undefined);
    assert.deepEqual(loadConfig({ ADMIN_CONSOLE_PORT: '9470' }).console.listener, { port: 9470, host: '127.0.0.1', url: 'http://127.0.0.1:9470' });
    assert.deepEqual(loadConfig({ ADMIN_CONSOLE_PORT: '9470', ADMIN_CONSOLE_HOST: '::1' }).console.listener?.url, 'http://[::1]:9470');
    assert.equal(
      loadConfig({ ADMIN_CONSOLE_PORT: '9470', ADMIN_CONSOLE_URL: 'https://console.internal.example/' }).console.listener?.url,
      'https://console.internal.example',
    );
    assert.throws(() => loadConfig({ ADMIN_CONSOLE_PORT: 'nine' }), /ADMIN_CONSOLE_PORT: must be a port number/);
    assert.throws(() => loadConfig({ ADMIN_CONSOLE_PORT: '0' }), /ADMIN_CONSOLE_PORT/);
    assert.throws(() => loadConfig({ ADMIN_CONSOLE_PORT: '3000' }), /ADMIN_CONSOLE_PORT: must differ from PORT and METRICS_PORT/);
    assert.throws(() => loadConfig({ ADMIN_CONSOLE_PORT: '9464' }), /ADMIN_CONSOLE_PORT: must differ from PORT and METRICS_PORT/);
    assert.throws(() => loadConfig({ ADMIN_CONSOLE_HOST: '0.0.0.0' }), /ADMIN_CONSOLE_PORT: required when ADMIN_CONSOLE_HOST or ADMIN_CONSOLE_URL is set/);
    assert.throws(() => loadConfig({ ADMIN_CONSOLE_PORT: '9470', ADMIN_CONSOLE_URL: 'ftp://x' }), /ADMIN_CONSOLE_URL/);
  });

  it('an issuer is an origin: no path', () => {
    assert.throws(() => loadConfig({ ISSUER: 'http://localhost:3000/auth' }), /ISSUER: must be a scheme and host/);
  });

  it('insecure redirect URIs are a development setting only', () => {
    assert.equal(loadConfig({ ALLOW_INSECURE_REDIRECT_URIS: 'true' }).allowInsecureRedirectUris, true);
    assert.throws(
      () =>
        loadConfig({
          NODE_ENV: 'production',
          LATCHKEY_KEY_ENCRYPTION_KEY: kek,
          ISSUER: 'https://id.example.com',
          TRUST_PROXY: 'true',
          ALLOW_INSECURE_REDIRECT_URIS: 'true',
        }),
      /ALLOW_INSECURE_REDIRECT_URIS: not allowed when NODE_ENV=production/,
    );
  });

  it('treats empty values as unset', () => {
    assert.equal(loadConfig({ PORT: '' }).port, 3000);
  });

  it('people and mail: defaults, and bad values named', () => {
    const c = loadConfig({});
    assert.equal(c.registration, 'off');
    assert.equal(c.requireVerifiedEmail, false);
    assert.equal(c.mail.smtpUrl, undefined);
    assert.equal(c.mail.from, 'Latchkey <no-reply@localhost>');
    assert.equal(c.mailEnabled, true, 'development logs mail instead');
    assert.deepEqual({ ...c.linkTtl }, { verification: 86400, passwordReset: 1800, invitation: 604800 });
    assert.deepEqual(c.rateLimits.email, { points: 10, seconds: 900 });
    assert.throws(() => loadConfig({ REGISTRATION: 'maybe' }), /REGISTRATION/);
    assert.throws(() => loadConfig({ SMTP_URL: 'http://mail.example.com' }), /SMTP_URL/);
    assert.throws(() => loadConfig({ MAIL_FROM: 'two words' }), /MAIL_FROM/);
    assert.throws(() => loadConfig({ PASSWORD_RESET_TTL: '5' }), /PASSWORD_RESET_TTL/);
    assert.equal(loadConfig({ MAIL_FROM: 'Accounts <accounts@example.com>' }).mail.from, 'Accounts <accounts@example.com>');
  });

  it('production sends mail through SMTP only: sign-up, invitations and required confirmation need SMTP_URL; without it mail is off', () => {
    const prod = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', TRUST_PROXY: 'true', LATCHKEY_KEY_ENCRYPTION_KEY: kek };
    assert.throws(() => loadConfig({ ...prod, REGISTRATION: 'open' }), /SMTP_URL: required when NODE_ENV=production and REGISTRATION=open/);
    assert.throws(() => loadConfig({ ...prod, REGISTRATION: 'invite' }), /SMTP_URL/);
    assert.throws(() => loadConfig({ ...prod, REQUIRE_VERIFIED_EMAIL: 'true' }), /SMTP_URL: required when NODE_ENV=production and REQUIRE_VERIFIED_EMAIL=true/);
    assert.equal(loadConfig(prod).mailEnabled, false, 'no reset links without a way to send them');
    const withSmtp = loadConfig({ ...prod, REGISTRATION: 'open', SMTP_URL: 'smtps://user:pass@mail.example.com:465' });
    assert.equal(withSmtp.mailEnabled, true);
    assert.equal(withSmtp.mail.from, 'Latchkey <no-reply@id.example.com>');
  });
});
