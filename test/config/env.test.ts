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
    assert.throws(() => loadConfig({ PORT: 'eighty', ACCESS_TOKEN_TTL: '-5', DATABASE_URL: 'mysql://x' }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /PORT/);
      assert.match(err.message, /ACCESS_TOKEN_TTL/);
      assert.match(err.message, /DATABASE_URL/);
      return true;
    });
    assert.throws(() => loadConfig({ LATCHKEY_KEY_ENCRYPTION_KEY: 'c2hvcnQ=' }), /LATCHKEY_KEY_ENCRYPTION_KEY/);
    assert.throws(() => loadConfig({ ISSUER: 'ftp://x' }), /ISSUER/);
    assert.throws(() => loadConfig({ TRUST_PROXY: 'maybe' }), /TRUST_PROXY/);
  });

  it('production refuses to start without a key-encryption key or with an http issuer', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', ISSUER: 'https://id.example.com', TRUST_PROXY: 'true' }), /LATCHKEY_KEY_ENCRYPTION_KEY: required/);
    assert.throws(() => loadConfig({ NODE_ENV: 'production', LATCHKEY_KEY_ENCRYPTION_KEY: kek }), /ISSUER: must be an https/);
    assert.throws(() => loadConfig({ NODE_ENV: 'production', LATCHKEY_KEY_ENCRYPTION_KEY: kek, ISSUER: 'https://id.example.com' }), /TRUST_PROXY: must be true/);
    const c = loadConfig({ NODE_ENV: 'production', LATCHKEY_KEY_ENCRYPTION_KEY: kek, ISSUER: 'https://id.example.com', TRUST_PROXY: 'true' });
    assert.equal(c.secureCookies, true);
  });

  it('treats empty values as unset', () => {
    assert.equal(loadConfig({ PORT: '' }).port, 3000);
  });
});
