// Runs the admin CLI: in this process by default (src/cli/run.ts's runCli,
// the same code as the command, with its own runtime on the test database),
// or as operators' scripts do (`npx latchkey-admin …`: bin/latchkey-admin.mjs
// running the compiled dist/cli/index.js in a process of its own) with
// `{ process: true }`. A real process adds what only a process has: exit
// codes, the entry point, the compiled build, stdin. Each command family
// keeps a test of its own on a real process.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runCli } from '../../src/cli/run.ts';
import { adminBin, ensureBuilt } from './cli-under-load.ts';

const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function adminCli(env: () => Record<string, string>, opts: { process?: boolean } = {}) {
  return async (...args: string[]): Promise<CliResult> => {
    if (!opts.process) return inProcess(env(), args);
    ensureBuilt();
    try {
      const { stdout, stderr } = await exec(process.execPath, [adminBin, ...args], { env: env(), maxBuffer: 4 << 20 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as CliResult;
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
}

/** One command in this process (src/cli/run.ts, the code behind the entry point), in `cwd` when given. */
export async function inProcess(env: Record<string, string>, args: string[], opts: { input?: string; cwd?: string } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const before = process.cwd();
  if (opts.cwd) process.chdir(opts.cwd);
  try {
    const code = await runCli(args, {
      env,
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      stdin: async function* () {
        if (opts.input) yield opts.input;
      },
    });
    return { code, stdout, stderr };
  } finally {
    process.chdir(before);
  }
}

/** The CLI's own error lines (node may add warnings of its own on stderr). */
export const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('latchkey-admin:'));
