// The folder Latchkey is installed in (the one with its package.json): where
// views/, prisma/ and node_modules/ are. Found by walking up from this
// module, so that it holds wherever the module sits: src/ under tsx, or a
// chunk of the bundle in dist/ (scripts/build.mjs).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: Latchkey's files are not where it runs from`);
  }
}

export const projectRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
