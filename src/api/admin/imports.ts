// /admin/api/v1/{users,clients,api-keys}/import: moving a product onto
// Latchkey over HTTP, the same imports as the CLI's `user import`, `client
// import` and `api-key import`. The body is JSON Lines, read as it arrives
// (a 100,000-person file is never held whole); the answer is the CLI's
// --json report: counts, and each line that could not be taken with its
// number. A line's failure is in the report (200), not an HTTP error.
import { ADMIN_SCOPE } from '../../services/admin/administration.ts';
import { ImportedUser } from '../../services/people/user-import.ts';
import { ImportedClient } from '../../services/machines/client-import.ts';
import { ImportedApiKey } from '../../services/api-keys/api-key-import.ts';
import { importReportView } from '../views.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';
import { importOptions, jsonLinesBody, JSON_LINES_TYPES } from './json-lines-body.ts';
import { ImportQuery, ImportReport, importReportExample } from './schemas.ts';

const report = {
  200: { description: 'what was imported, and each line that was not (with its number and what to fix)', schema: ImportReport, example: importReportExample },
};

export function importRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'post',
      path: '/users/import',
      operationId: 'importUsers',
      summary: 'Import people with their password hashes and authenticator secrets',
      tags: ['users'],
      scope: ADMIN_SCOPE,
      description:
        'One person a line. Streamed and written in batched transactions; `dry_run=true` checks every line and writes nothing. A foreign password ' +
        'hash is re-hashed with bcrypt at the first sign-in.',
      query: ImportQuery,
      stream: {
        mediaTypes: JSON_LINES_TYPES,
        line: ImportedUser,
        example:
          '{"email":"ada@example.com","id":"auth0|5f7c8ec7c33c6c004bbafe82","email_verified":true,"password_hash":"$2b$10$…","totp":{"secret":"JBSWY3DPEHPK3PXP"}}\n',
      },
      responses: report,
      async handle({ ctx, query, caller }) {
        return { status: 200, body: importReportView(await admin.users.import(actorOf(caller), jsonLinesBody(ctx), importOptions(query), metaOf(ctx))) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/clients/import',
      operationId: 'importClients',
      summary: 'Import apps with their client ids and secrets',
      tags: ['clients'],
      scope: ADMIN_SCOPE,
      description: 'One app a line. A kept secret is stored as the same keyed hash as a generated one and is refused under 128 bits of estimated randomness.',
      query: ImportQuery,
      stream: {
        mediaTypes: JSON_LINES_TYPES,
        line: ImportedClient,
        example:
          '{"client_id":"billing-portal","client_name":"Billing","client_secret":"…","redirect_uris":["https://billing.example.com/cb"],"grant_types":["authorization_code","refresh_token"]}\n',
      },
      responses: report,
      async handle({ ctx, query, caller }) {
        return { status: 200, body: importReportView(await admin.clients.import(actorOf(caller), jsonLinesBody(ctx), importOptions(query), metaOf(ctx))) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api-keys/import',
      operationId: 'importApiKeys',
      summary: 'Import API keys in their old format (or their SHA-256)',
      tags: ['api keys'],
      scope: ADMIN_SCOPE,
      description:
        'One key a line: `key` as integrators have it, or `key_sha256` when the product kept only that. A key imported before is skipped with ' +
        'on_conflict=skip, reported otherwise; keys are never rewritten.',
      query: ImportQuery,
      stream: {
        mediaTypes: JSON_LINES_TYPES,
        line: ImportedApiKey,
        example: '{"owner":"inventory-sync","name":"nightly export","scope":"cmdb.read","resource":"https://cmdb.example.com","key":"kapi_prod_…"}\n',
      },
      responses: report,
      async handle({ ctx, query, caller }) {
        return { status: 200, body: importReportView(await admin.apiKeys.import(actorOf(caller), jsonLinesBody(ctx), importOptions(query), metaOf(ctx))) };
      },
    }),
  ];
}
