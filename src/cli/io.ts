// Where a command's output goes and what it reads: the process's own streams
// and environment, or (for a command run inside another program, as the
// tests do through runCli) streams and an environment of its caller's, kept
// per call so that commands running at once do not mix their output.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
  stdin(): AsyncIterable<Buffer | string>;
}

const processIo: CliIo = {
  get env() {
    return process.env;
  },
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: () => process.stdin,
};

const current = new AsyncLocalStorage<CliIo>();

/** The streams and environment of the command running now. */
export const cliIo = (): CliIo => current.getStore() ?? processIo;

export const withCliIo = <T>(io: CliIo, fn: () => Promise<T>): Promise<T> => current.run(io, fn);
