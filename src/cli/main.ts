// The admin CLI process's entry (bin/latchkey-admin.mjs runs it; the build
// bundles it as dist/cli/index.js): the compile cache before the commands'
// modules load (src/compile-cache.ts), then the command line.
import { useCompileCache } from '../compile-cache.ts';

useCompileCache();
await import('./index.ts');
