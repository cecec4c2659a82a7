// Generates the Prisma clients for SQLite and PostgreSQL from one schema.
//
// Prisma's CLI wants to download a native schema engine even for `generate`,
// which needs none; our machines reach only the npm registry, so we point it
// at a stub that answers `--version`. Migrations use the WebAssembly engine
// instead (src/db/migrate.ts).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'node_modules', 'prisma', 'build', 'index.js');
const stub = join(root, 'node_modules', '.cache', 'latchkey', 'schema-engine-stub');
mkdirSync(dirname(stub), { recursive: true });
writeFileSync(stub, '#!/bin/sh\necho "schema-engine-stub 0.0.0 (generate only)"\n');
chmodSync(stub, 0o755);

const sqlite = readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8');
const postgres = sqlite
  .replace('provider = "sqlite"', 'provider = "postgresql"')
  .replace(/output(\s*)= "\.\.\/src\/generated\/sqlite"/, 'output$1= "../../src/generated/postgres"');
if (postgres === sqlite) throw new Error('could not derive the PostgreSQL schema');
mkdirSync(join(root, 'prisma', 'postgres'), { recursive: true });
writeFileSync(
  join(root, 'prisma', 'postgres', 'schema.prisma'),
  `// GENERATED from prisma/schema.prisma by scripts/prisma-generate.mjs; do not edit.\n${postgres}`,
);

// The Prisma CLI is a devDependency: an install without them (`npm ci
// --omit=dev` on a production host) runs the clients that `npm run build`
// compiled into dist/ where the CLI was installed. The derived PostgreSQL
// schema above is written either way: migrations read it.
if (!existsSync(cli)) {
  console.error('prisma-generate: the Prisma CLI is not installed (devDependencies omitted); using the clients compiled into dist/');
  process.exit(0);
}
for (const schema of ['prisma/schema.prisma', 'prisma/postgres/schema.prisma']) {
  execFileSync(process.execPath, [cli, 'generate', '--schema', schema], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: stub,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      DATABASE_URL: process.env.DATABASE_URL ?? 'file:./unused.db',
    },
  });
}
