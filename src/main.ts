// The server process's entry: what `npm start` and `node dist/server.js` run
// (scripts/build.mjs bundles this file under that name). Node's compile cache
// goes on before the server's modules load (src/compile-cache.ts).
import { setFlagsFromString } from 'node:v8';
import { useCompileCache } from './compile-cache.ts';

// Prisma's query compiler is WebAssembly, and its plans are cached: after the
// first queries of each shape it hardly runs. On V8 11 (Node 20) the start-up's
// queries still made it tier functions up to optimised code on background
// threads, for about 0.13 s of CPU and 18 MB of resident memory that stayed;
// V8 13 (Node 24) does not, and there the flag only cost its start 40 ms (V8 12,
// Node 22, was not measured). The flag is the process's: the password threads
// run native code, and the schema engine (WebAssembly too) runs when a start
// migrates, which the flag makes twice as fast. Read when a module compiles,
// so it is set before anything loads (bench/README.md, "Stop 30").
if (Number(process.versions.v8.split('.')[0]) < 12) setFlagsFromString('--liftoff-only');
useCompileCache();
const { runFromCommandLine } = await import('./server.ts');
runFromCommandLine();
