// The full proofs that the admin CLI holds up under load (issue 15, §6):
//
//   npx tsx scripts/cli-under-load.ts writes [COUNT=100] [LOOPS=4]
//     COUNT CLI writes (service-account disable/enable, client create, API key
//     revoke) against a live server while LOOPS jwt-bearer token loops run at
//     full speed: every CLI exit 0, no 5xx, any error naming its cause.
//   npx tsx scripts/cli-under-load.ts commands [COUNT=200] [BURNERS=2]
//     COUNT CLI commands in a row (reads and writes) while BURNERS busy
//     processes keep every core loaded: every exit code 0.
//
// The server is dist/server.js and each CLI process the latchkey-admin bin,
// as `npm start` and operators run them (dist/ is built first when src/
// changed). On SQLite by default; with TEST_POSTGRES_URL set, on a fresh PostgreSQL
// database. Exits 1 when any check fails. Test-suite versions with smaller
// counts: test/cli/cli-under-load.test.ts.
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
} from '../test/helpers/cli-under-load.ts';

const [mode = 'writes', countArg, extraArg] = process.argv.slice(2);
if (mode !== 'writes' && mode !== 'commands') {
  console.error('usage: npx tsx scripts/cli-under-load.ts writes [COUNT] [LOOPS] | commands [COUNT] [BURNERS]');
  process.exit(2);
}
const count = Number(countArg ?? (mode === 'writes' ? 100 : 200));
const extra = Number(extraArg ?? (mode === 'writes' ? 4 : 2));
const database = process.env.TEST_POSTGRES_URL ? 'PostgreSQL' : 'SQLite';

const server = await startServerProcess();
const runs: CliRun[] = [];
let failed = false;
try {
  const fixture = await createFixture(server, apiKeysFor(count));
  const started = performance.now();
  if (mode === 'writes') {
    console.log(`${count} CLI writes under ${extra} token loops on ${database}…`);
    const loops = tokenLoops(server.issuer, fixture, extra);
    for (const args of writeCommands(fixture, count)) {
      const r = await runCli(server.env, args);
      runs.push(r);
      if (r.code !== 0) console.log(`  ${describeRun(r)}`);
    }
    const tally = await loops.stop();
    const fivexx = Object.entries(tally.byStatus)
      .filter(([s]) => !/^[24]/.test(s))
      .reduce((n, [, c]) => n + c, 0);
    console.log(`token requests: ${tally.requests} ${JSON.stringify(tally.byStatus)}`);
    for (const f of tally.failures) console.log(`  ${f}`);
    if (fivexx) failed = true;
  } else {
    console.log(`${count} CLI commands in a row with ${extra} busy processes on ${database}…`);
    const burn = burnCpu(extra);
    try {
      const writes = writeCommands(fixture, count);
      for (let i = 0; i < count; i++) {
        // Every other command a read: most commands an operator runs change nothing.
        const args = i % 2 ? ['client', 'list', '--json'] : writes[i]!;
        const r = await runCli(server.env, args);
        runs.push(r);
        if (r.code !== 0) console.log(`  ${describeRun(r)}`);
      }
    } finally {
      burn.stop();
    }
  }
  const codes: Record<string, number> = {};
  for (const r of runs) codes[String(r.signal ?? r.code)] = (codes[String(r.signal ?? r.code)] ?? 0) + 1;
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  console.log(
    `CLI exits: ${JSON.stringify(codes)}; median ${Math.round(ms[Math.floor(ms.length / 2)]!)} ms, slowest ${Math.round(ms.at(-1)!)} ms; ` +
      `${Math.round((performance.now() - started) / 1000)} s in all`,
  );
  if (runs.some((r) => r.code !== 0)) failed = true;
} finally {
  const code = await server.stop();
  if (code !== 0) {
    console.log(`server exited ${code}`);
    failed = true;
  }
  if (/"level":(50|60)/.test(server.output()))
    console.log(
      `server errors:\n${server
        .output()
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l))
        .slice(0, 5)
        .join('\n')}`,
    );
}
console.log(failed ? 'FAILED' : 'passed');
process.exit(failed ? 1 : 0);
