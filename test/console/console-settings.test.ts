// The console's settings, checked once at start-up (in-process: no server):
// their defaults, and a bad value refused naming its variable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/env.ts';

describe('ADMIN_ROLE, AUDITOR_ROLE and ADMIN_REAUTH', () => {
  it('default to latchkey-admin, latchkey-auditor and 15 minutes', () => {
    assert.deepEqual(loadConfig({}).console, { adminRole: 'latchkey-admin', auditorRole: 'latchkey-auditor', reauthSeconds: 900, listener: undefined });
    assert.deepEqual(loadConfig({ ADMIN_ROLE: 'ops', AUDITOR_ROLE: 'support:read', ADMIN_REAUTH: '5' }).console, {
      adminRole: 'ops',
      auditorRole: 'support:read',
      reauthSeconds: 300,
      listener: undefined,
    });
  });

  it('refuse a role that is not a role name, one role for both, and a re-authentication window out of bounds', () => {
    const refused = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && err.message.includes(variable),
        `${JSON.stringify(env)} names ${variable}`,
      );
    refused({ ADMIN_ROLE: 'not a role' }, 'ADMIN_ROLE');
    refused({ AUDITOR_ROLE: '-dash' }, 'AUDITOR_ROLE');
    refused({ ADMIN_ROLE: 'ops', AUDITOR_ROLE: 'ops' }, 'AUDITOR_ROLE: must differ from ADMIN_ROLE');
    refused({ ADMIN_REAUTH: '0' }, 'ADMIN_REAUTH');
    refused({ ADMIN_REAUTH: '1441' }, 'ADMIN_REAUTH');
    refused({ ADMIN_REAUTH: 'soon' }, 'ADMIN_REAUTH');
  });
});
