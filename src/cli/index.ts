// The admin command line: `npm run --silent admin -- <command> … [--json]`
// (the commands: src/cli/run.ts).
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
