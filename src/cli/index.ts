// The admin command line's entry: `latchkey-admin <command> … [--json]`
// (bin/latchkey-admin.mjs runs this file compiled, dist/cli/index.js; the
// commands: src/cli/run.ts). Password threads start only when a command
// hashes a password (src/services/people/passwords.ts).
import { closePasswordWorkers } from '../services/people/passwords.ts';
import { runCli } from './run.ts';

try {
  process.loadEnvFile?.('.env');
} catch {
  // no .env: fine
}
const status = await runCli(process.argv.slice(2));
// Before process.exit: a password thread torn down mid-hash aborts the process.
await closePasswordWorkers();
// Exit explicitly: the WebAssembly migration engine can leave a timer behind
// on PostgreSQL that would hold a short-lived command open for seconds.
process.exit(status);
