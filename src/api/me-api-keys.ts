// A person's own API keys, for first-party apps holding that person's
// access token (scope `api-keys`, audience API_RESOURCE). Thin over
// src/services/api-keys.ts, as the CLI and the account page are.
import { z } from 'zod';
import type { Runtime } from '../runtime.ts';
import type { ApiKeyRecord } from '../services/api-keys.ts';
import type { ApiCaller } from './bearer-auth.ts';
import { problem } from './problem.ts';
import { defineRoute, type RouteSpec } from './registry.ts';

export const API_KEYS_SCOPE = 'api-keys';

const ApiKey = z
  .object({
    id: z.string(),
    display: z.string().describe('the beginning of the key, for recognising it; not a secret'),
    name: z.string(),
    description: z.string().nullable(),
    scope: z.string(),
    resource: z.string().nullable().describe('the API the key is bound to, if any'),
    allowed_ips: z.array(z.string()).describe('CIDR ranges the key may be used from; empty = anywhere'),
    expires_at: z.string().nullable(),
    created_at: z.string(),
    last_used_at: z.string().nullable().describe('updated at most once a minute'),
    last_used_ip: z.string().nullable(),
    revoked_at: z.string().nullable(),
    active: z.boolean(),
  })
  .meta({ id: 'ApiKey' });

const CreatedApiKey = ApiKey.extend({ key: z.string().describe('the key itself: shown in this response only, never again') }).meta({ id: 'CreatedApiKey' });

const CreateApiKey = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  description: z.string().max(500).optional(),
  scope: z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be space-separated scope values'),
  resource: z.url().optional().describe('bind the key to this API (its resource identifier)'),
  expires: z
    .string()
    .regex(/^(\d{1,5}[mhdw]|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?)$/, 'must be a duration (90d, 12h, 30m, 2w) or a date (2027-01-31 or 2027-01-31T00:00:00Z)')
    .optional(),
  allowed_ips: z.array(z.string().min(1)).max(20).optional().describe('CIDR ranges, IPv4 or IPv6'),
});

const IdParams = z.object({ id: z.string().regex(/^key_[A-Za-z0-9_-]{1,64}$/, 'is not an API key id') });

function view(k: ApiKeyRecord): z.output<typeof ApiKey> {
  return {
    id: k.id,
    display: k.display,
    name: k.name,
    description: k.description,
    scope: k.scopes.join(' '),
    resource: k.resource,
    allowed_ips: k.allowedCidrs,
    expires_at: k.expiresAt?.toISOString() ?? null,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    last_used_ip: k.lastUsedIp,
    revoked_at: k.revokedAt?.toISOString() ?? null,
    active: !k.revokedAt && !k.ownerDisabled && (!k.expiresAt || k.expiresAt.getTime() > Date.now()),
  };
}

const example = {
  id: 'key_3Xb0q9cW1nR8uY2e', display: 'lk_live_a1B2c3…', name: 'nightly export', description: null, scope: 'invoices.read',
  resource: 'https://billing.example.com', allowed_ips: ['203.0.113.0/24'], expires_at: '2027-03-01T00:00:00.000Z',
  created_at: '2026-12-01T00:00:00.000Z', last_used_at: null, last_used_ip: null, revoked_at: null, active: true,
};

/** The person behind the token; a machine's token has no "own keys" here. */
function person(caller: ApiCaller): { userId: string } {
  if (caller.kind !== 'person') throw problem.forbidden('this operation manages a person\'s own keys: use an access token issued for a person');
  return { userId: caller.subject };
}

export function meApiKeyRoutes(runtime: Runtime): RouteSpec[] {
  const { apiKeys } = runtime;
  const meta = (ctx: { ip: string; get(h: string): string }, caller: ApiCaller) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, clientId: caller.clientId });
  return [
    defineRoute({
      method: 'get', path: '/me/api-keys', operationId: 'listMyApiKeys', tags: ['API keys'], scope: API_KEYS_SCOPE,
      summary: 'List your API keys',
      responses: { 200: { description: 'every key of yours, revoked ones included', schema: z.object({ api_keys: z.array(ApiKey) }), example: { api_keys: [example] } } },
      handle: async ({ caller }) => ({ status: 200, body: { api_keys: (await apiKeys.list({ owner: person(caller) })).map(view) } }),
    }),
    defineRoute({
      method: 'post', path: '/me/api-keys', operationId: 'createMyApiKey', tags: ['API keys'], scope: API_KEYS_SCOPE,
      summary: 'Create an API key (the key is in this response only)',
      body: CreateApiKey,
      bodyExample: { name: 'nightly export', scope: 'invoices.read', resource: 'https://billing.example.com', expires: '90d', allowed_ips: ['203.0.113.0/24'] },
      responses: { 201: { description: 'created; `key` is shown this once', schema: CreatedApiKey, example: { ...example, key: 'lk_live_a1B2c3…(48 characters)' } } },
      handle: async ({ ctx, caller, body }) => {
        const { key, record } = await apiKeys.create(
          { owner: { ...person(caller), self: true }, name: body.name, description: body.description, scope: body.scope, resource: body.resource, expires: body.expires, allowIps: body.allowed_ips },
          meta(ctx, caller),
        );
        return { status: 201, body: { ...view(record), key }, headers: { Location: `/api/v1/me/api-keys/${record.id}` } };
      },
    }),
    defineRoute({
      method: 'get', path: '/me/api-keys/{id}', operationId: 'getMyApiKey', tags: ['API keys'], scope: API_KEYS_SCOPE,
      summary: 'One of your API keys',
      params: IdParams,
      responses: { 200: { description: 'the key (never the key itself)', schema: ApiKey, example }, 404: { description: 'no key of yours has this id' } },
      handle: async ({ caller, params }) => ({ status: 200, body: view(await apiKeys.get(params.id, person(caller))) }),
    }),
    defineRoute({
      method: 'delete', path: '/me/api-keys/{id}', operationId: 'revokeMyApiKey', tags: ['API keys'], scope: API_KEYS_SCOPE,
      summary: 'Revoke one of your API keys (at once, on every node)',
      params: IdParams,
      responses: { 204: { description: 'revoked (or already was)' }, 404: { description: 'no key of yours has this id' } },
      handle: async ({ ctx, caller, params }) => {
        await apiKeys.revoke(params.id, meta(ctx, caller), person(caller));
        return { status: 204 };
      },
    }),
  ];
}
