// The server process's entry: what `npm start` and `node dist/server.js` run
// (scripts/build.mjs bundles this file under that name). Node's compile cache
// goes on before the server's modules load (src/compile-cache.ts).
import { useCompileCache } from './compile-cache.ts';

useCompileCache();
const { runFromCommandLine } = await import('./server.ts');
runFromCommandLine();
