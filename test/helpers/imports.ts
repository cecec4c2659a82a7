// What the import tests share: hashes made by the libraries products use
// (Debian's python3-passlib and python3-argon2, never our own code), and
// JSON Lines handed to the administration service as a stream.
import { execFileSync } from 'node:child_process';
import { readJsonLines } from '../../src/services/admin/json-lines.ts';

export const PYTHON = '/usr/bin/python3';

/** Runs a Python snippet with Debian's python3; its stdout as JSON. */
export function python<T>(source: string): T {
  return JSON.parse(execFileSync(PYTHON, ['-c', source], { encoding: 'utf8' })) as T;
}

/** Whether Debian's passlib and argon2-cffi are there (the hash tests need them). */
export function pythonHashersMissing(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import passlib.hash, argon2'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${PYTHON} with passlib and argon2-cffi (Debian: python3-passlib python3-argon2)`;
  }
}

/** `lines` (objects, or raw text for a broken line) as the stream an import reads. */
export function jsonLines(lines: (object | string)[]) {
  return readJsonLines([Buffer.from(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'))]);
}

export const cliActor = { kind: 'cli' as const, osUser: 'test' };
