// Node's compile cache (Node 22.1+): a start reuses the code V8 compiled
// for the last one instead of compiling the bundle again, a good part of a
// start (bench/README.md, "Stop 27"). Node's default folder is in the shared
// temporary directory, under a predictable name: on a host with other users,
// whoever created that folder first could feed compiled code to the process
// that holds the signing keys. So the cache lives inside the installation
// (node_modules/.cache/latchkey/compile), and only in a folder this user owns and
// no one else can write; otherwise the process runs without it.
// NODE_COMPILE_CACHE, if set, is the operator's choice and is left to Node.
import { mkdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { projectRoot } from './project-root.ts';

type EnableCompileCache = (dir?: string) => unknown;

/**
 * Whether `dir` (created 0700 if missing) is fit for compiled code: owned by
 * this process's user, and writable by no one else.
 */
export function ownCacheFolder(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const s = statSync(dir);
    if (typeof process.getuid === 'function' && s.uid !== process.getuid()) return false;
    return (s.mode & 0o022) === 0;
  } catch {
    // A read-only installation, another user's: no cache, a slower start.
    return false;
  }
}

export function useCompileCache(): void {
  const enable = (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (!enable || process.env.NODE_COMPILE_CACHE || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  const dir = join(projectRoot, 'node_modules', '.cache', 'latchkey', 'compile');
  if (ownCacheFolder(dir)) enable(dir);
}
