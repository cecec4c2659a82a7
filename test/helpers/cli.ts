// Runs the admin CLI exactly as operators' scripts do.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function adminCli(env: () => Record<string, string>) {
  return async (...args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await exec('npm', ['run', '--silent', 'admin', '--', ...args], { env: env() });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as CliResult;
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
}

/** The CLI's own error lines (npm may add warnings of its own on stderr). */
export const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('latchkey-admin:'));
