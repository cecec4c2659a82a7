// `npm run migrate`: apply pending migrations and exit (the server also does this on start).
import { ConfigError, loadConfig } from '../config/env.ts';
import { applyMigrations } from '../db/migrate.ts';

try {
  process.loadEnvFile?.('.env');
} catch {
  // no .env: fine
}
try {
  const config = loadConfig();
  const applied = await applyMigrations(config.databaseUrl);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} catch (err) {
  console.error(`latchkey-migrate: ${err instanceof ConfigError ? err.message : (err as Error).message.split('\n')[0]}`);
  process.exitCode = 1;
}
// See src/cli/index.ts: do not wait for the migration engine's stray timer.
process.exit();
