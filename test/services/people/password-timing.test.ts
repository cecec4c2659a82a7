// While imported hashes remain, every password answer does the same work: an
// unknown email, a locked account (checked as unknown), a Latchkey bcrypt
// account and an imported argon2 one each run one verification per scheme in
// use. Observed job by job on the real password threads (the timing test in
// test/interactions/timing-oracles.test.ts measures the clock; this one
// cannot be passed by luck).
import assert from 'node:assert/strict';
import { hash as argon2Hash } from '@node-rs/argon2';
import { after, before, describe, it } from 'node:test';
import { createChangeTracker } from '../../../src/services/machines/config-cache.ts';
import type { VerifyJob } from '../../../src/services/people/password-hashes.ts';
import { createPasswordVerifier, type StoredPassword } from '../../../src/services/people/password-verifier.ts';
import { verifyPasswordJob } from '../../../src/services/people/passwords.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { jsonLines } from '../../helpers/imports.ts';

const PASSWORD = 'an imported passphrase';

/** A job's scheme and cost, without its salt or checksum: what its time depends on. */
function costOf(job: VerifyJob): string {
  switch (job.kind) {
    case 'bcrypt':
      return `bcrypt ${job.hash.slice(0, 7)}${job.prehash ? ' prehash' : ''}`;
    case 'argon2':
      return job.hash.split('$').slice(1, 4).join('$');
    case 'scrypt':
      return `scrypt ${job.N},${job.r},${job.p}`;
    case 'pbkdf2':
      return `pbkdf2 ${job.digest},${job.iterations}`;
  }
}

describe('every password answer does the same work while imported hashes remain', () => {
  let server: TestServer;
  let ran: string[] = [];
  let verifier: ReturnType<typeof createPasswordVerifier>;
  let changes: ReturnType<typeof createChangeTracker>;
  const stored = async (email: string): Promise<StoredPassword> => {
    const u = await server.runtime.db.user.findUniqueOrThrow({ where: { email } });
    return { hash: u.passwordHash, scheme: u.passwordScheme };
  };
  /** The jobs one answer ran, sorted. */
  const jobsOf = async (password: string, who: StoredPassword | undefined) => {
    ran = [];
    const result = await verifier.check(password, who);
    return { result, jobs: [...ran].sort() };
  };

  before(async () => {
    server = await startTestServer();
    changes = createChangeTracker(server.runtime.db, server.runtime.clock);
    verifier = createPasswordVerifier({
      db: server.runtime.db,
      changes,
      bcryptCost: Number(server.env.BCRYPT_COST ?? 4),
      verify: (password, job) => {
        ran.push(costOf(job));
        return verifyPasswordJob(password, job);
      },
    });
    await server.runtime.users.create({ email: 'native@example.test', password: 'a native passphrase' });
    const imported = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    const cli = { kind: 'cli', osUser: 'test' } as const;
    const report = await server.runtime.admin.users.import(cli, jsonLines([{ email: 'imported@example.test', password_hash: imported }]));
    assert.equal(report.created, 1, JSON.stringify(report.errors));
  });
  after(() => server?.stop());

  it('an unknown email, a Latchkey account and an imported one run the same jobs; only the right password is ok', async () => {
    const unknown = await jobsOf('a guess', undefined);
    const native = await jobsOf('a guess', await stored('native@example.test'));
    const importedWrong = await jobsOf('a guess', await stored('imported@example.test'));
    const importedRight = await jobsOf(PASSWORD, await stored('imported@example.test'));
    assert.deepEqual(unknown.jobs, [`argon2id$v=19$m=4096,t=2,p=1`, `bcrypt $2b$0${server.env.BCRYPT_COST ?? 4}$`].sort());
    for (const other of [native, importedWrong, importedRight]) assert.deepEqual(other.jobs, unknown.jobs);
    assert.deepEqual(
      [unknown, native, importedWrong, importedRight].map((a) => a.result.ok),
      [false, false, false, true],
    );
    assert.equal(importedRight.result.rehash, true, 'an imported hash is re-hashed at its first sign-in');
  });

  it('once no imported hash is left, an answer is one bcrypt again', async () => {
    await server.runtime.db.user.updateMany({ where: { passwordScheme: { not: null } }, data: { passwordScheme: null, passwordHash: '!' } });
    await changes.changed('password_schemes');
    const unknown = await jobsOf('a guess', undefined);
    assert.deepEqual(unknown.jobs, [`bcrypt $2b$0${server.env.BCRYPT_COST ?? 4}$`]);
    assert.deepEqual((await jobsOf('a guess', await stored('native@example.test'))).jobs, unknown.jobs);
  });
});
