// `api-key import` as JSON Lines: keys integrators already have in their
// scripts, in their old format (`nsa_live_…`, `kapi_prod_…`, a bare token) or
// as the SHA-256 their product kept, each given to its owner with scopes,
// resource, expiry and address ranges by the same rules as a key made here
// (src/services/api-keys/api-keys.ts `import`). A key imported before is
// skipped (or, with --on-conflict fail, reported): a key is never rewritten —
// revoke it and import again. Never a key, nor its SHA-256, in the report.
import * as z from 'zod';
import { AppError } from '../../errors.ts';
import type { Actor, RequestMeta } from '../admin/audit.ts';
import { checkedLine, newReport, reportFailure, type ImportReport, type JsonLine, type OnConflict } from '../admin/json-lines.ts';
import type { ApiKeyService } from './api-keys.ts';

export const ImportedApiKey = z
  .strictObject({
    owner: z.string().min(1).max(200).describe("a person's id or a service account's client id"),
    name: z.string().min(1).max(100),
    scope: z.string().min(1).max(2000),
    key: z.string().max(512).optional().describe('the key as its holders have it'),
    key_sha256: z.string().max(64).optional().describe('or only the hex SHA-256 of the key, when that is all the product kept'),
    resource: z.string().max(2000).optional(),
    expires: z.string().max(40).optional().describe('a date (2027-01-31) or a duration (90d)'),
    allow_ips: z.array(z.string().max(64)).max(100).optional(),
    description: z.string().max(500).optional(),
  })
  .meta({ id: 'ImportedApiKey', description: 'One key a line (application/x-ndjson): `key` or `key_sha256`, its owner, name and scopes.' });

const FIELDS = ['key_sha256', 'key', 'owner', 'name', 'scope', 'resource', 'expires', 'allow_ips', 'description'];
const fieldOf = (message: string) =>
  FIELDS.find((f) => message.startsWith(`${f}:`) || message.includes(` ${f} `)) ??
  (/scope/.test(message)
    ? 'scope'
    : /expir/.test(message)
      ? 'expires'
      : /resource/.test(message)
        ? 'resource'
        : /owner|user|service account/.test(message)
          ? 'owner'
          : '');

export function createApiKeyImporter({ apiKeys }: { apiKeys: ApiKeyService }) {
  return {
    async run(
      source: AsyncIterable<JsonLine>,
      actor: Actor,
      opts: { dryRun?: boolean; onConflict?: OnConflict } = {},
      meta: RequestMeta = {},
    ): Promise<ImportReport> {
      const report = newReport(Boolean(opts.dryRun));
      for await (const item of source) {
        const line = checkedLine(item, ImportedApiKey, report, 'a key');
        if (line === undefined) continue;
        try {
          const owner = await apiKeys.ownerFromId(line.owner).catch((err) => {
            throw err instanceof AppError && err.code === 'not_found' ? new AppError('invalid_input', `owner: no user or service account ${line.owner}`) : err;
          });
          const { record, existing } = await apiKeys.import(
            {
              owner,
              name: line.name,
              scope: line.scope,
              key: line.key,
              keySha256: line.key_sha256,
              resource: line.resource,
              expires: line.expires,
              allowIps: line.allow_ips,
              description: line.description,
            },
            { ...meta, actor },
            { dryRun: opts.dryRun },
          );
          if (existing) {
            if ((opts.onConflict ?? 'fail') === 'fail')
              throw new AppError(
                'conflict',
                `${line.key !== undefined ? 'key' : 'key_sha256'}: this key was imported before (${existing.id}); --on-conflict skip leaves it`,
              );
            report.skipped++;
          } else {
            report.created++;
            void record;
          }
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const field = fieldOf(err.message);
          reportFailure(report, { line: item.line, field, message: err.message.replace(new RegExp(`^${field}: `), '') });
        }
      }
      return report;
    },
  };
}

export type ApiKeyImporter = ReturnType<typeof createApiKeyImporter>;
