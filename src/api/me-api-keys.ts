// A person's own API keys, for first-party apps holding that person's
// access token (scope `api-keys`, audience API_RESOURCE). Thin over
// src/services/api-keys/api-keys.ts, as the CLI and the account page are.
//
// Creating a key needs a recent sign-in, as the account page asks for the
// password again: the token's `auth_time` must be at most
// API_KEY_REAUTH_MAX_AGE seconds old. An older one is answered with RFC
// 9470's step-up challenge (401, error="insufficient_user_authentication",
// max_age), as Auth0 and Keycloak resource servers do: the app sends the
// person to sign in again (`max_age` or `prompt=login`) and retries. A
// refreshed token keeps its original `auth_time`, so a refresh token alone
// (or a session alone, through an app) cannot mint keys later. Creations
// spend the person's RATE_LIMIT_API_KEYS budget (refused ones are given
// back), and the owner cap (API_KEY_MAX_PER_OWNER) is the service's.
import * as z from 'zod';
import type { PersonBudget } from '../middleware/koa-rate-limit.ts';
import type { Runtime } from '../runtime.ts';
import { describeDuration } from '../config/durations.ts';
import { apiKeyFields, PageQuery } from './list-queries.ts';
import { ApiKey, apiKeyExample, apiKeyView } from './views.ts';
import { insufficientUserAuthentication, type ApiCaller } from './bearer-auth.ts';
import { problem } from './problem.ts';
import { defineRoute, type RouteSpec } from './registry.ts';

export const API_KEYS_SCOPE = 'api-keys';

const CreatedApiKey = ApiKey.extend({ key: z.string().describe('the key itself: shown in this response only, never again') }).meta({ id: 'CreatedApiKey' });

const CreateApiKey = z.strictObject(apiKeyFields);

const IdParams = z.object({ id: z.string().regex(/^key_[A-Za-z0-9_-]{1,64}$/, 'is not an API key id') });

const example = { ...apiKeyExample, owner: { kind: 'person' as const, id: '6f1c1c8e-8a0e-4b55-9f6c-0d1d2f0f6a11' } };

/** The person behind the token; a machine's token has no "own keys" here. */
function person(caller: ApiCaller): { userId: string } {
  if (caller.kind !== 'person') throw problem.forbidden("this operation manages a person's own keys: use an access token issued for a person");
  return { userId: caller.subject };
}

/** The person proved who they are at most `maxAge` seconds ago, or a step-up challenge. */
function requireRecentSignIn(caller: ApiCaller, maxAge: number, now = Date.now()): void {
  const age = caller.authTime ? Math.floor((now - caller.authTime.getTime()) / 1000) : undefined;
  if (age !== undefined && age <= maxAge) return;
  const again = `send the person to sign in again (max_age=${maxAge}) and retry with the new token`;
  throw insufficientUserAuthentication(
    maxAge,
    age === undefined
      ? `creating an API key needs a recent sign-in, and this token does not say when the person signed in: ${again}`
      : `creating an API key needs a sign-in in the last ${maxAge} seconds; this token's was ${age} seconds ago: ${again}`,
  );
}

export function meApiKeyRoutes(runtime: Runtime, budget: (personId: string) => Promise<PersonBudget>): RouteSpec[] {
  const { apiKeys } = runtime;
  const { reauthMaxAge } = runtime.config.apiKeys;
  const meta = (ctx: { ip: string; get(h: string): string }, caller: ApiCaller) => ({
    ip: ctx.ip,
    userAgent: ctx.get('user-agent') || undefined,
    clientId: caller.clientId,
  });
  return [
    defineRoute({
      method: 'get',
      path: '/me/api-keys',
      operationId: 'listMyApiKeys',
      tags: ['API keys'],
      scope: API_KEYS_SCOPE,
      summary: 'List your API keys, oldest first, a page at a time',
      query: PageQuery,
      responses: {
        200: {
          description: 'a page of your keys, revoked and expired ones included',
          schema: z
            .object({ api_keys: z.array(ApiKey), next_cursor: z.string().optional().describe('present when there are more: pass it as `cursor`') })
            .meta({ id: 'ApiKeyPage' }),
          example: { api_keys: [example] },
        },
      },
      handle: async ({ caller, query }) => {
        const page = await apiKeys.page({ owner: person(caller), ...query });
        return {
          status: 200,
          body: { api_keys: page.items.map((k) => apiKeyView(k, runtime.clock.now())), ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/me/api-keys',
      operationId: 'createMyApiKey',
      tags: ['API keys'],
      scope: API_KEYS_SCOPE,
      summary: 'Create an API key (the key is in this response only)',
      body: CreateApiKey,
      bodyExample: { name: 'nightly export', scope: 'invoices.read', resource: 'https://billing.example.com', expires: '90d', allowed_ips: ['203.0.113.0/24'] },
      description:
        `Needs a recent sign-in: the access token's \`auth_time\` at most API_KEY_REAUTH_MAX_AGE ` +
        `(${reauthMaxAge}) seconds old. Otherwise 401 with \`WWW-Authenticate: ` +
        `Bearer error="insufficient_user_authentication", max_age="${reauthMaxAge}"\` ` +
        `(RFC 9470): have the person sign in again with that \`max_age\` and retry.`,
      responses: {
        201: { description: 'created; `key` is shown this once', schema: CreatedApiKey, example: { ...example, key: 'lk_live_a1B2c3…(48 characters)' } },
      },
      handle: async ({ ctx, caller, body }) => {
        const owner = person(caller);
        requireRecentSignIn(caller, reauthMaxAge);
        const spent = await budget(owner.userId);
        if (!spent.ok) {
          throw problem.tooManyRequests(
            `you made ${spent.limit.points} API keys in ${describeDuration(spent.limit.seconds)}, the most allowed; retry in ${spent.retryAfter} s`,
            spent.retryAfter,
          );
        }
        const { key, record } = await apiKeys
          .create(
            {
              owner: { ...owner, self: true },
              name: body.name,
              description: body.description,
              scope: body.scope,
              resource: body.resource,
              expires: body.expires,
              allowIps: body.allowed_ips,
            },
            meta(ctx, caller),
          )
          .catch(async (err: unknown) => {
            // A refused key is not a key made: only what was made counts.
            await spent.refund();
            throw err;
          });
        return { status: 201, body: { ...apiKeyView(record, runtime.clock.now()), key }, headers: { Location: `/api/v1/me/api-keys/${record.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/me/api-keys/{id}',
      operationId: 'getMyApiKey',
      tags: ['API keys'],
      scope: API_KEYS_SCOPE,
      summary: 'One of your API keys',
      params: IdParams,
      responses: { 200: { description: 'the key (never the key itself)', schema: ApiKey, example }, 404: { description: 'no key of yours has this id' } },
      handle: async ({ caller, params }) => ({ status: 200, body: apiKeyView(await apiKeys.get(params.id, person(caller)), runtime.clock.now()) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/me/api-keys/{id}',
      operationId: 'revokeMyApiKey',
      tags: ['API keys'],
      scope: API_KEYS_SCOPE,
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
