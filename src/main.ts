// The server process's entry: what `npm start` and `node dist/server.js` run
// (scripts/build.mjs bundles this file under that name). It turns on Node's
// compile cache (Node 22.1+; a folder in the OS's temporary directory) before
// the server's modules load: a restart then reuses the compiled code of the
// last start instead of compiling some 12 MB of JavaScript again, a good
// part of start-up (bench/README.md, "Start-up, memory and the admin CLI").
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { runFromCommandLine } = await import('./server.ts');
runFromCommandLine();
