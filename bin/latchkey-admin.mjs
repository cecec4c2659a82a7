#!/usr/bin/env node
// latchkey-admin: the admin CLI (`npx latchkey-admin <command> …`, or
// `npm run --silent admin -- …`), run as compiled JavaScript by plain node.
// After a checkout or an edit it builds dist/ first (scripts/build.mjs, a
// few seconds, said on stderr); otherwise it costs one look at the
// modification times of src/ before the command starts.
import v8 from 'node:v8';
import { ensureBuilt } from '../scripts/build.mjs';

try {
  ensureBuilt();
} catch (err) {
  process.stderr.write(`latchkey-admin: ${err.message}\n`);
  process.exit(1);
}
// Prisma's query compiler is WebAssembly: a command runs a handful of queries,
// too few for optimised code to pay back compiling it in the background
// (15 % of a read's CPU time and 15 MB here). Read when the module compiles.
v8.setFlagsFromString('--liftoff-only');
// A long command (`user import` of 100,000 people) makes its garbage a batch
// at a time and keeps little: V8 let the heap grow to about four times what
// was live before collecting it, so the peak grew with the file (201 MB for
// 10,000 people, 359 MB for 100,000) while the live heap stayed near 50 MB.
// Growing it by half at most keeps the peak where a short run has it (196
// and 242 MB), for no CPU time we could measure (bench/README.md, import).
// V8 reads it at every collection, so setting it here takes effect.
v8.setFlagsFromString('--heap-growing-percent=50');
await import('../dist/cli/index.js');
