// `client import`: apps from another product with the client ids and secrets
// already written into their code, one JSON object a line. Each line is
// created (or, by --on-conflict, skipped or updated) by the same rules as
// `client create`, so an imported app is an app like any other; its secret
// is stored as the same keyed hash as a generated one, and one that looks
// guessable (under 128 bits) is refused with a message. Apps are few: a
// line at a time, each audited (`client.imported`), never a secret in the
// report or the audit trail.
import * as z from 'zod';
import { AppError } from '../../errors.ts';
import type { Actor, AuditService, RequestMeta } from '../admin/audit.ts';
import { checkedLine, newReport, reportFailure, type ImportReport, type JsonLine, type OnConflict } from '../admin/json-lines.ts';
import { checkClientId, type ClientRecord, type ClientService, type CreateClientInput } from './clients.ts';

export const ImportedClient = z
  .strictObject({
    client_id: z.string().min(1).max(128),
    client_name: z.string().min(1).max(200),
    client_secret: z.string().min(1).max(512).optional(),
    public: z.boolean().optional(),
    redirect_uris: z.array(z.string().max(2000)).max(100).optional(),
    post_logout_redirect_uris: z.array(z.string().max(2000)).max(100).optional(),
    grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).optional(),
    scope: z.string().max(2000).optional(),
    api_scope: z.string().max(2000).optional(),
    default_resource: z.string().max(2000).optional(),
    resource_servers: z.array(z.string().max(2000)).max(50).optional(),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
    require_mfa: z.boolean().optional(),
  })
  .meta({
    id: 'ImportedClient',
    description:
      'One app a line (application/x-ndjson): its existing client_id and client_secret (at least 128 bits of randomness), ' +
      'redirect URIs, grants, API scopes and default resource.',
  });

function inputOf(line: z.output<typeof ImportedClient>): CreateClientInput {
  const grants = line.grant_types ?? [];
  const redirectUris = line.redirect_uris ?? [];
  if (grants.includes('authorization_code') && !redirectUris.length) throw new AppError('invalid_input', 'grant_types: authorization_code needs redirect_uris');
  return {
    name: line.client_name,
    redirectUris,
    postLogoutRedirectUris: line.post_logout_redirect_uris,
    public: line.public,
    scope: line.scope,
    tokenEndpointAuthMethod: line.token_endpoint_auth_method,
    clientCredentials: grants.includes('client_credentials'),
    apiScope: line.api_scope,
    defaultResource: line.default_resource,
    resourceServers: line.resource_servers,
    requireMfa: line.require_mfa,
  };
}

/** Which field an error of the client rules is about, from its words. */
function fieldOf(message: string): string {
  if (/secret/i.test(message)) return 'client_secret';
  if (/client id/i.test(message)) return 'client_id';
  if (/post-logout/i.test(message)) return 'post_logout_redirect_uris';
  if (/redirect/i.test(message)) return 'redirect_uris';
  if (/default-resource/i.test(message)) return 'default_resource';
  if (/resource/i.test(message)) return 'resource_servers';
  if (/scope/i.test(message)) return 'scope';
  return '';
}

export interface ClientImportDeps {
  clients: ClientService;
  audit: AuditService;
  /** A client's wire shape (src/api/views.ts), whose fields the audit record names. */
  describe(c: ClientRecord): Record<string, unknown>;
}

export function createClientImporter({ clients, audit, describe }: ClientImportDeps) {
  const fields = (c: ClientRecord) => {
    const { client_id: _i, created_at: _c, updated_at: _u, client_secrets: _s, ...rest } = describe(c);
    return rest;
  };
  return {
    async run(
      source: AsyncIterable<JsonLine>,
      actor: Actor,
      opts: { dryRun?: boolean; onConflict?: OnConflict } = {},
      meta: RequestMeta = {},
    ): Promise<ImportReport> {
      const onConflict = opts.onConflict ?? 'fail';
      const report = newReport(Boolean(opts.dryRun));
      const seen = new Map<string, number>();
      for await (const item of source) {
        const line = checkedLine(item, ImportedClient, report, 'an app');
        if (line === undefined) continue;
        const first = seen.get(line.client_id);
        if (first !== undefined) {
          reportFailure(report, { line: item.line, field: 'client_id', message: `the same client_id as line ${first}` });
          continue;
        }
        seen.set(line.client_id, item.line);
        try {
          checkClientId(line.client_id);
          const input = inputOf(line);
          if (!line.public && line.client_secret === undefined)
            throw new AppError('invalid_input', "client_secret: a confidential app's existing secret is needed (or public: true)");
          const existing = await clients.get(line.client_id).catch((err) => {
            if (err instanceof AppError && err.code === 'not_found') return undefined;
            throw err;
          });
          if (existing) {
            if (onConflict === 'fail')
              throw new AppError('conflict', 'client_id: an app with this client_id already exists (--on-conflict skip leaves it, update overwrites it)');
            if (onConflict === 'skip') {
              report.skipped++;
              continue;
            }
            if (existing.public !== Boolean(line.public))
              throw new AppError('invalid_input', 'public: an existing app cannot change between public and confidential');
            const secretChanged = line.client_secret !== undefined && !(await clients.isCurrentSecret(line.client_id, line.client_secret));
            const { public: _p, ...changes } = input;
            const before = fields(existing);
            if (opts.dryRun) {
              report.updated++;
              continue;
            }
            const after = await clients.update(line.client_id, changes);
            if (secretChanged) await clients.setSecret(line.client_id, line.client_secret!);
            const changed = Object.fromEntries(Object.entries(fields(after)).filter(([k, v]) => JSON.stringify(before[k]) !== JSON.stringify(v)));
            if (!secretChanged && !Object.keys(changed).length) {
              report.skipped++;
              continue;
            }
            await audit.recordChange(
              actor,
              'client.imported',
              { kind: 'client', id: line.client_id, clientId: line.client_id },
              { ...changed, ...(secretChanged ? { client_secret: 'imported' } : {}), updated: true },
              meta,
            );
            report.updated++;
            continue;
          }
          if (opts.dryRun) {
            // The same checks as a creation, without writing: a weak secret, a bad id or URI is reported now.
            await clients.check(input, { clientId: line.client_id, secret: line.client_secret });
            report.created++;
            continue;
          }
          const { client } = await clients.create(input, { clientId: line.client_id, secret: line.client_secret });
          await audit.recordChange(
            actor,
            'client.imported',
            { kind: 'client', id: client.clientId, clientId: client.clientId },
            { ...fields(client), ...(line.client_secret ? { client_secret: 'imported' } : {}) },
            meta,
          );
          report.created++;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const message = err.message.replace(/^(client_secret|public|client_id|grant_types): /, '');
          const field = /^(client_secret|public|client_id|grant_types): /.exec(err.message)?.[1] ?? fieldOf(err.message);
          reportFailure(report, { line: item.line, field, message });
        }
      }
      return report;
    },
  };
}

export type ClientImporter = ReturnType<typeof createClientImporter>;
