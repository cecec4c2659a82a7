// /admin/api/v1/config: the configuration file over HTTP (the CLI's `config
// export` and `config apply`). Its JSON Schema is served beside the OpenAPI
// document (src/api/admin/index.ts), without a token.
import * as z from 'zod';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../services/admin/administration.ts';
import { ConfigDocument } from '../../services/config/config-file.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';

const tags = ['configuration'];

const ApplyQuery = z
  .strictObject({
    dry_run: z.enum(['true', 'false']).optional().describe('show the plan, change nothing'),
    prune: z.enum(['true', 'false']).optional().describe('also delete what the document lacks'),
  })
  .meta({ id: 'ConfigApplyQuery' });

const PlanItem = z.object({
  op: z.enum(['+', '~', '-']),
  kind: z.enum(['role', 'resource', 'service_account', 'client']),
  id: z.string(),
  label: z.string(),
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
});

const ApplyResult = z
  .object({
    dry_run: z.boolean(),
    plan: z.array(PlanItem),
    secrets: z
      .array(z.object({ kind: z.enum(['client', 'service_account']), id: z.string(), secret: z.string() }))
      .describe('secrets generated for new apps and shared-secret accounts, in this response only'),
  })
  .meta({ id: 'ConfigApplyResult' });

// The export as a response: every default filled in (the request form leaves them optional).
const ExportedConfig = ConfigDocument.meta({ id: 'LatchkeyConfigExport', description: 'The document config apply takes, as the server has it' });
const ConfigToApply = ConfigDocument.meta({ id: 'LatchkeyConfig', description: 'Apps, APIs, service accounts and roles (config apply); never secrets' });

const example = {
  latchkey_config: 1,
  roles: [{ name: 'auditor', description: 'reads reports' }],
  resources: [
    {
      identifier: 'https://cmdb.example.com',
      scope: 'cmdb.read cmdb.write',
      format: 'jwt',
      ttl: 900,
      claims: ['email'],
      scope_roles: { 'cmdb.write': ['admin'] },
      machines_only: false,
    },
  ],
  service_accounts: [],
  clients: [
    {
      client_id: 'billing',
      client_name: 'Billing',
      public: false,
      redirect_uris: ['https://billing.example.com/cb'],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email',
    },
  ],
};

export function configRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/config',
      operationId: 'exportConfig',
      summary: 'Every app, resource, service account and role as one document (no secrets)',
      tags,
      scope: ADMIN_READ_SCOPE,
      responses: { 200: { description: 'the document config apply takes', schema: ExportedConfig, example } },
      handle: async () => ({ status: 200, body: await admin.config.export() }),
    }),
    defineRoute({
      method: 'post',
      path: '/config/apply',
      operationId: 'applyConfig',
      summary: 'Make the server match a configuration document',
      tags,
      scope: ADMIN_SCOPE,
      description:
        'Creates and updates what differs; deletes what the document lacks only with prune=true. ' +
        'Answers the plan (and carries it out unless dry_run=true). ' +
        'Secrets of new apps and shared-secret accounts are generated and returned once ' +
        '(`client_secret_env` and `shared_secret_env` are read by the CLI only).',
      query: ApplyQuery,
      body: ConfigToApply,
      bodyExample: example,
      responses: {
        200: {
          description: 'the plan, carried out unless a dry run',
          schema: ApplyResult,
          example: {
            dry_run: false,
            plan: [{ op: '~', kind: 'resource', id: 'https://cmdb.example.com', label: 'https://cmdb.example.com', changes: { ttl: { from: 3600, to: 900 } } }],
            secrets: [],
          },
        },
      },
      async handle({ ctx, query, body, caller }) {
        const result = await admin.config.apply(
          body,
          actorOf(caller),
          { dryRun: query.dry_run === 'true', prune: query.prune === 'true', env: {} },
          metaOf(ctx),
        );
        return { status: 200, body: result };
      },
    }),
  ];
}
