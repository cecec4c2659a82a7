// A passkey ceremony's challenge on the runtime's clock: it lasts
// CEREMONY_SECONDS, is taken once, and is found only with the person and the
// token it was made for. Told apart by finishRegistration's reasons: a
// challenge not found (or past its time) is `expired`; one found with a
// response that is no credential is `no_credential`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CEREMONY_SECONDS } from '../../../src/services/factors/passkeys.ts';
import { createUser } from '../../helpers/relying-party.ts';
import { advanceClock, startTestServer, type TestServer } from '../../helpers/server.ts';

describe('passkey ceremony challenges', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  const finish = (userId: string, token: string) => server.runtime.passkeys.finishRegistration(userId, token, '{}', '');

  it('a challenge answered within its time is found once; a second answer finds nothing', async () => {
    const person = await createUser(server);
    const { token } = await server.runtime.passkeys.registrationOptions(person.id);
    advanceClock(server, (CEREMONY_SECONDS - 5) * 1000);
    assert.deepEqual(await finish(person.id, token), { ok: false, reason: 'no_credential' }, 'found, just before its end');
    assert.deepEqual(await finish(person.id, token), { ok: false, reason: 'expired' }, 'taken once');
  });

  it('a challenge answered after CEREMONY_SECONDS is refused as expired, and gone', async () => {
    const person = await createUser(server);
    const { token } = await server.runtime.passkeys.registrationOptions(person.id);
    advanceClock(server, (CEREMONY_SECONDS + 1) * 1000);
    assert.deepEqual(await finish(person.id, token), { ok: false, reason: 'expired' });
    assert.deepEqual(await finish(person.id, token), { ok: false, reason: 'expired' });
  });

  it("another person's session, or no token, finds nobody's challenge", async () => {
    const [victim, attacker] = await Promise.all([createUser(server), createUser(server)]);
    const { token } = await server.runtime.passkeys.registrationOptions(victim.id);
    assert.deepEqual(await finish(attacker.id, token), { ok: false, reason: 'expired' }, 'the token with another person');
    assert.deepEqual(await finish(victim.id, ''), { ok: false, reason: 'expired' }, 'the person without the token');
    assert.deepEqual(await finish(victim.id, token), { ok: false, reason: 'no_credential' }, "the victim's own ceremony is intact");
  });
});
