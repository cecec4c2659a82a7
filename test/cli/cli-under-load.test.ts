// The CLI writing the database while the server serves tokens is the
// documented way to administer Latchkey: it must hold under load, on both
// databases. Bounded versions of scripts/cli-under-load.ts (100 writes under
// four token loops; 200 commands on a loaded machine): three rounds of four
// writers at once, four of two commands. More rounds repeated the same
// collisions and took about a tenth of the suite's CPU (the loops run at full
// speed throughout); the script runs the long version.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  apiKeysFor,
  burnCpu,
  createFixture,
  describeRun,
  runCli,
  startServerProcess,
  tokenLoops,
  writeCommands,
  type CliRun,
  type LiveServer,
  type LoadFixture,
} from '../helpers/cli-under-load.ts';

const WRITES = 12;
const COMMANDS = 8;

/** Runs the commands `parallel` at a time (each CLI a process of its own), in order within each lane. */
async function runAll(env: Record<string, string>, commands: string[][], parallel: number): Promise<CliRun[]> {
  const queue = [...commands];
  const runs: CliRun[] = [];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let args = queue.shift(); args; args = queue.shift()) runs.push(await runCli(env, args));
    }),
  );
  return runs;
}

describe('the admin CLI under load', () => {
  let server: LiveServer;
  let fixture: LoadFixture;
  before(async () => {
    server = await startServerProcess();
    fixture = await createFixture(server, apiKeysFor(WRITES));
  });
  after(() => server?.stop());

  it(`${WRITES} CLI writes (disable, enable, client create, key revoke) under four full-speed token loops: every exit 0, no 5xx`, async () => {
    const loops = tokenLoops(server.issuer, fixture, 4);
    let runs: CliRun[];
    try {
      // Four at a time: CLI processes collide with each other as well as with the server.
      runs = await runAll(server.env, writeCommands(fixture, WRITES), 4);
    } finally {
      await loops.stop();
    }
    const tally = loops.tally;
    const failedRuns = runs.filter((r) => r.code !== 0);
    assert.deepEqual(failedRuns.map(describeRun), [], 'every CLI write exits 0');
    for (const r of runs) assert.doesNotMatch(r.stderr, /unexpected error: *$/m, 'an error names its cause');
    assert.ok(tally.requests > 50, `the token loops ran (${tally.requests} requests)`);
    assert.deepEqual(
      Object.keys(tally.byStatus).filter((s) => !/^[24]\d\d$/.test(s)),
      [],
      `token answers: ${JSON.stringify(tally.byStatus)} ${tally.failures.join(' | ')}`,
    );
    assert.ok((tally.byStatus['200'] ?? 0) > 0);
    // The steady account was never disabled: it got tokens throughout. The last disable and enable ran
    // four at a time, in either order: one more enable, alone, leaves the toggled account enabled.
    assert.equal((await runCli(server.env, ['service-account', 'enable', fixture.toggled.clientId, '--json'])).code, 0);
    const enabled = await runCli(server.env, ['service-account', 'show', fixture.toggled.clientId, '--json']);
    assert.equal(JSON.parse(enabled.stdout).disabled, false);
  });

  it(`${COMMANDS} CLI commands on a machine with no idle core: every exit 0, and a command that hashes no password starts no password thread`, async () => {
    // At the lowest priority: the CLI's password threads (nice 19) compete with them, the rest of the suite does not.
    const burn = burnCpu(2, { nice: 19 });
    let runs: CliRun[];
    try {
      const env = { ...server.env, BCRYPT_COST: '12', PASSWORD_HASH_NICE: '19', NODE_DEBUG: 'worker' };
      const commands = Array.from({ length: COMMANDS }, (_, i) =>
        i % 2 ? ['client', 'list', '--json'] : ['service-account', i % 4 ? 'enable' : 'disable', fixture.toggled.clientId, '--json'],
      );
      runs = await runAll(env, [...commands, ['service-account', 'enable', fixture.toggled.clientId, '--json']], 2);
    } finally {
      burn.stop();
    }
    assert.deepEqual(runs.filter((r) => r.code !== 0).map(describeRun), [], 'every command exits 0 (no abort, exit 134)');
    // NODE_DEBUG=worker names every Worker a process starts; the password threads are `eval` workers.
    const withThreads = runs.filter((r) => /instantiating Worker\. url: .* doEval: classic/.test(r.stderr));
    assert.deepEqual(
      withThreads.map((r) => r.args.join(' ')),
      [],
      'no bcrypt at start-up',
    );
  });
});
