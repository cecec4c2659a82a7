#!/usr/bin/env node
// latchkey-admin: the admin CLI (`npx latchkey-admin <command> …`, or
// `npm run --silent admin -- …`), run as compiled JavaScript by plain node.
// After a checkout or an edit it builds dist/ first (scripts/build.mjs, a
// few seconds, said on stderr); otherwise it costs one look at the
// modification times of src/ before the command starts.
import module from 'node:module';
import { ensureBuilt } from '../scripts/build.mjs';

try {
  ensureBuilt();
} catch (err) {
  process.stderr.write(`latchkey-admin: ${err.message}\n`);
  process.exit(1);
}
// Node 22.1+ keeps the compiled code of every module on disk between runs (in
// the OS's temporary folder): most of what a short command costs is loading.
module.enableCompileCache?.();
await import('../dist/cli/index.js');
