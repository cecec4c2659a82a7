// A new user's slips at the command line: the CLI parses its arguments before
// it opens anything, so a usage error in an empty folder creates nothing (no
// key file, no database), exits 2 with one line, and says what was meant.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { editDistance, nearest } from '../../src/cli/args.ts';
import { inProcess } from '../helpers/cli.ts';
import { runCli } from '../helpers/cli-under-load.ts';

const cases: { args: string[]; says: RegExp }[] = [
  {
    args: ['client', 'create', '--name', 'Shop', '--redirect_uri', 'https://shop.example.test/cb', '--json'],
    says: /^latchkey-admin: unknown option --redirect_uri \(did you mean --redirect-uri\?\)$/,
  },
  { args: ['user', 'create', '--email', 'ada@example.test', '--pasword', 'a long passphrase'], says: /unknown option --pasword \(did you mean --password\?\)/ },
  {
    args: ['service-account', 'create', '--name', 'n', '--scope', 'a', '--generate-key=ES256', '--Json'],
    says: /unknown option --Json \(did you mean --json\?\)/,
  },
  { args: ['clinet', 'list'], says: /unknown command "clinet" \(did you mean client\?\)/ },
  { args: ['client', 'create', '--redirect-uri', 'https://shop.example.test/cb'], says: /client create needs --name NAME/ },
  { args: ['client', 'create', '--name'], says: /--name <value>' argument missing/ },
  { args: ['api-key', 'revoke'], says: /usage: api-key revoke ID/ },
  { args: ['client', 'list', '--frobnicate'], says: /unknown option --frobnicate; this command takes --json/ },
];

describe('CLI usage errors', () => {
  // The first slip through the real entry point (`node src/cli/index.ts` in a
  // process of its own: exit status, .env handling); the rest through the same
  // code in this process, one at a time in its own folder (a process costs
  // seconds of CPU and proves nothing more about parsing).
  it('each exits 2 with one line naming the fix, and creates nothing in an empty folder (no key file, no database)', async () => {
    const dirs = cases.map(() => mkdtempSync(join(tmpdir(), 'latchkey-usage-')));
    try {
      // Nothing but PATH and HOME: DATA_DIR and DATABASE_URL default to ./data, in the empty folder.
      const env = { PATH: process.env.PATH!, HOME: dirs[0]! };
      const runs: { code: number | null; stdout: string; stderr: string }[] = [await runCli(env, cases[0]!.args, { cwd: dirs[0] })];
      for (let i = 1; i < cases.length; i++) runs.push(await inProcess(env, cases[i]!.args, { cwd: dirs[i]! }));
      runs.forEach((r, i) => {
        const lines = r.stderr.split('\n').filter(Boolean);
        assert.equal(r.code, 2, `${cases[i]!.args.join(' ')}: exit ${r.code} ${r.stderr}`);
        assert.equal(lines.length, 1, `one line: ${r.stderr}`);
        assert.match(lines[0]!, cases[i]!.says);
        assert.equal(r.stdout, '');
        assert.deepEqual(readdirSync(dirs[i]!), [], `${cases[i]!.args.join(' ')} created nothing`);
      });
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it('suggests only a near option: the usual slips (underscore, capitals, one letter, a swap) but not a different word', () => {
    const options = ['redirect-uri', 'post-logout-redirect-uri', 'name', 'scope', 'api-scope', 'json'];
    assert.equal(nearest('redirect_uri', options), 'redirect-uri');
    assert.equal(nearest('REDIRECT-URI', options), 'redirect-uri');
    assert.equal(nearest('scpoe', options), 'scope');
    assert.equal(nearest('api_scopes', options), 'api-scope');
    assert.equal(nearest('password', options), undefined);
    assert.equal(nearest('x', options), undefined);
    assert.equal(editDistance('scope', 'scpoe'), 1);
  });
});
