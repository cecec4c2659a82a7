// Lines longer than 160 characters in the code (Biome has no such rule: its
// formatter wraps code at 160, but not a long string, comment or test name).
// Part of `npm run lint`; `node scripts/line-length.mjs` lists the offenders.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const LIMIT = 160;
const ROOTS = ['src', 'test', 'scripts', 'bench'];

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== join('src', 'generated')) yield* files(p);
    } else if (/\.(ts|mjs|js)$/.test(e.name)) yield p;
  }
}

let over = 0;
for (const root of ROOTS) {
  for (const file of files(root)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if ([...line].length > LIMIT) {
          over += 1;
          console.error(`${file}:${i + 1}: ${[...line].length} characters (at most ${LIMIT}); split the string or the comment`);
        }
      });
  }
}
if (over) {
  console.error(`${over} line(s) over ${LIMIT} characters`);
  process.exit(1);
}
