// /admin/api/v1/api-keys: API keys of any owner (a person or a service account).
import * as z from 'zod';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../services/admin/administration.ts';
import { ApiKey, apiKeyExample, apiKeyView } from '../views.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';
import { apiKeyFields, apiKeyFilterOf, ApiKeyQuery, pageBody, pageOf } from '../list-queries.ts';

const tags = ['api keys'];

const example = apiKeyExample;

const CreateAdminApiKey = z
  .strictObject({
    owner_id: z.string().min(1).max(200).describe('a user id or a service account client id'),
    ...apiKeyFields,
  })
  .meta({ id: 'CreateAdminApiKey' });

const CreatedAdminApiKey = z
  .object({
    api_key: ApiKey,
    key: z.string().describe('the key itself: shown in this response only, never again'),
  })
  .meta({ id: 'CreatedAdminApiKey' });

const AdminApiKeys = pageOf(ApiKey, 'AdminApiKeys');
const IdParams = z.strictObject({ id: z.string().min(1).max(100) });

export function apiKeyRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/api-keys',
      operationId: 'listApiKeys',
      summary: 'API keys of every owner, or of one; expiring soon, never used or unused since a time (oldest first, a page at a time)',
      tags,
      scope: ADMIN_READ_SCOPE,
      query: ApiKeyQuery,
      responses: { 200: { description: 'a page of keys (never their values)', schema: AdminApiKeys, example: { items: [example] } } },
      async handle({ query }) {
        const owner = query.owner_id ? await admin.apiKeys.ownerFromId(query.owner_id) : undefined;
        const page = await admin.apiKeys.page({ owner, ...apiKeyFilterOf(query), limit: query.limit, cursor: query.cursor });
        return pageBody(page, (k) => apiKeyView(k, admin.clock.now()));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api-keys',
      operationId: 'createApiKey',
      summary: 'Make an API key for a person or a service account',
      tags,
      scope: ADMIN_SCOPE,
      body: CreateAdminApiKey,
      bodyExample: {
        owner_id: 'sa_Q2xp3nV8y1Kz0bLm',
        name: 'inventory script',
        scope: 'cmdb.read',
        resource: 'https://api.example.com',
        expires: '90d',
        allowed_ips: ['203.0.113.0/24'],
      },
      responses: {
        201: { description: 'the key, shown here only', schema: CreatedAdminApiKey, example: { api_key: example, key: 'lk_live_4kV2x9QpLm…' } },
        404: { description: 'no such owner' },
      },
      async handle({ ctx, body, caller }) {
        const owner = await admin.apiKeys.ownerFromId(body.owner_id);
        const { key, record } = await admin.apiKeys.create(
          actorOf(caller),
          {
            owner,
            name: body.name,
            description: body.description,
            scope: body.scope,
            resource: body.resource,
            expires: body.expires,
            allowIps: body.allowed_ips,
          },
          metaOf(ctx),
        );
        return { status: 201, body: { api_key: apiKeyView(record, admin.clock.now()), key }, headers: { Location: `${ctx.path}/${record.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api-keys/{id}',
      operationId: 'getApiKey',
      summary: 'One API key',
      tags,
      scope: ADMIN_READ_SCOPE,
      params: IdParams,
      responses: { 200: { description: 'the key (never its value)', schema: ApiKey, example }, 404: { description: 'no such key' } },
      async handle({ params }) {
        return { status: 200, body: apiKeyView(await admin.apiKeys.get(params.id), admin.clock.now()) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api-keys/{id}',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key (refused at once on every node)',
      tags,
      scope: ADMIN_SCOPE,
      params: IdParams,
      responses: {
        200: { description: 'the revoked key', schema: ApiKey, example: { ...example, revoked_at: '2026-11-24T09:00:00.000Z', active: false } },
        404: { description: 'no such key' },
      },
      async handle({ ctx, params, caller }) {
        return { status: 200, body: apiKeyView(await admin.apiKeys.revoke(actorOf(caller), params.id, metaOf(ctx)), admin.clock.now()) };
      },
    }),
  ];
}
