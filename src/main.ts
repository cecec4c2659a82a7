// The server process's entry: what `npm start` and `node dist/server.js` run
// (scripts/build.mjs bundles this file under that name). Node's compile cache
// goes on before the server's modules load (src/compile-cache.ts).
import { setFlagsFromString } from 'node:v8';
import { useCompileCache } from './compile-cache.ts';

// Prisma's query compiler is WebAssembly, and its plans are cached: after the
// first queries of each shape it hardly runs. On V8 11 (Node 20) the start-up's
// queries still made it tier functions up to optimised code on background
// threads, for 0.12 s of CPU and 18 MB of resident memory that stayed; V8 13
// (Node 24) does not, and there the flag only costs its start 25 ms. Read when
// the module compiles, so it is set before anything loads (bench/README.md,
// "Stop 30").
if (Number(process.versions.v8.split('.')[0]) < 12) setFlagsFromString('--liftoff-only');
useCompileCache();
const { runFromCommandLine } = await import('./server.ts');
runFromCommandLine();
