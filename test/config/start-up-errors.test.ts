// Defaults and bad settings as a new user meets them, through the real entry
// points (the built server `npm start` runs, and the admin CLI): the
// development server stays on this machine, a mismatched ISSUER and PORT is
// pointed out, the data folder is private, and every bad setting names its
// variable and what to fix, without repeating a password.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/env.ts';
import { runCli, serverArgs } from '../helpers/cli-under-load.ts';
import { OWN_SETTINGS, repeatsFirstPass } from '../helpers/passes.ts';
import { freePort } from '../helpers/server.ts';

function startServer(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, serverArgs(), {
    cwd,
    env: { PATH: process.env.PATH!, BCRYPT_COST: '4', METRICS_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  // A death by signal is reported by name (a native crash at shutdown is a SIGSEGV or SIGABRT, not an exit code).
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    exited,
    output: () => out,
    async ready() {
      for (let i = 0; !out.includes('Latchkey is running'); i++) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited: ${out}`);
        if (i === 1200) throw new Error(`server not running after 60 s: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Whether a TCP connection to host:port is accepted. */
const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

describe('start-up defaults and bad settings', { skip: repeatsFirstPass(OWN_SETTINGS) }, () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), 'latchkey-start-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a first development start with .env.example's ISSUER and another PORT: listens on loopback only, warns about the port, makes data/ 0700", async () => {
    const cwd = fresh();
    const port = await freePort();
    const server = startServer({ PORT: String(port), ISSUER: 'http://localhost:3000' }, cwd);
    let stopped: number | string | undefined;
    try {
      await server.ready();
      const out = server.output();
      assert.match(out, new RegExp(`listening: +127\\.0\\.0\\.1:${port} \\(this machine only`));
      assert.match(out, new RegExp(`ISSUER http://localhost:3000 names port 3000 but Latchkey listens on PORT ${port}`));
      assert.equal(await accepts('127.0.0.1', port), true);
      // Another address of this machine, when it has one, is not served.
      const other = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal);
      if (other) assert.equal(await accepts(other.address, port), false, `not listening on ${other.address}`);
      assert.equal(statSync(join(cwd, 'data')).mode & 0o777, 0o700, 'data/ is private');
    } finally {
      // Stopped whatever happened; a failure above is the one reported.
      stopped = await server.stop();
    }
    assert.equal(stopped, 0, `the server stops cleanly on SIGTERM; it printed:\n${server.output()}`);
  });

  it('in production HOST defaults to every interface (the operator sets it), elsewhere to 127.0.0.1', () => {
    const prod = {
      NODE_ENV: 'production',
      ISSUER: 'https://id.example.test',
      TRUST_PROXY: 'true',
      LATCHKEY_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    };
    assert.equal(loadConfig(prod).host, '0.0.0.0');
    assert.equal(loadConfig({}).host, '127.0.0.1');
    assert.equal(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
    assert.deepEqual(loadConfig({ PORT: '4000' }).warnings, [], 'no warning when ISSUER is derived from PORT');
    assert.deepEqual(loadConfig({ PORT: '4000', ISSUER: 'http://localhost:3000', TRUST_PROXY: 'true' }).warnings, [], 'nor behind a proxy');
  });

  it('PORT=abc stops the server: "PORT must be a number from 1 to 65535"', async () => {
    const server = startServer({ PORT: 'abc' }, fresh());
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /PORT: must be a number from 1 to 65535/);
  });

  it('DATABASE_URL mistakes name DATABASE_URL and the fix, never the password: an unencoded #, a path under a file, PostgreSQL not running', async () => {
    const cwd = fresh();
    writeFileSync(join(cwd, 'README.md'), 'a file, not a folder\n');
    const closedPort = await freePort();
    const env = (url: string) => ({
      PATH: process.env.PATH!,
      HOME: cwd,
      DATABASE_URL: url,
      LATCHKEY_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
    });
    const [hash, underFile, down] = await Promise.all([
      runCli(env('postgres://latchkey:p@ss#w0rd-secret@db.example.test:5432/latchkey'), ['client', 'list', '--json'], { cwd }),
      runCli(env('file:./README.md/latchkey.db'), ['client', 'list', '--json'], { cwd }),
      runCli(env(`postgres://latchkey:hunter2-secret@127.0.0.1:${closedPort}/latchkey`), ['client', 'list', '--json'], { cwd }),
    ]);
    for (const r of [hash, underFile, down]) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^latchkey-admin: .*DATABASE_URL: /);
      assert.doesNotMatch(r.stderr, /secret/, 'the password is not repeated');
      assert.doesNotMatch(r.stderr, /unexpected error/);
    }
    assert.match(hash.stderr, /contains '#': percent-encode .*# as %23/);
    assert.match(underFile.stderr, /cannot create the SQLite file .*README\.md\/latchkey\.db: a part of its folder path is a file/);
    assert.match(down.stderr, new RegExp(`nothing accepts connections at 127\\.0\\.0\\.1:${closedPort}: is PostgreSQL running`));

    // The server says the same through its own entry point.
    const server = startServer(
      { PORT: String(await freePort()), DATABASE_URL: `postgres://latchkey:hunter2-secret@127.0.0.1:${closedPort}/latchkey` },
      fresh(),
    );
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /DATABASE_URL: nothing accepts connections at 127\.0\.0\.1/);
    assert.doesNotMatch(server.output(), /hunter2/);
  });
});
