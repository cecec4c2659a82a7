// /admin/api/v1/clients: relying parties and machine clients.
import type * as z from 'zod';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../services/admin/administration.ts';
import { clientView } from '../views.ts';
import type { ClientRecord, CreateClientInput } from '../../services/machines/clients.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';
import { ifMatch, withEtag } from './preconditions.ts';
import { Client, ClientIdParams, clientExample, CreateClient, CreatedClient, RotatedSecret, RotateSecret, UpdateClient } from './schemas.ts';
import { PageQuery, pageOf, pageBody } from '../list-queries.ts';

const tags = ['clients'];

function registration(body: z.output<typeof UpdateClient>): Partial<Omit<CreateClientInput, 'public'>> {
  return {
    name: body.client_name,
    redirectUris: body.redirect_uris,
    postLogoutRedirectUris: body.post_logout_redirect_uris,
    scope: body.scope,
    tokenEndpointAuthMethod: body.token_endpoint_auth_method,
    idTokenAlg: body.id_token_signed_response_alg,
    clientCredentials: body.client_credentials,
    apiScope: body.api_scope,
    resourceServers: body.resource_servers,
    requireMfa: body.require_mfa,
    defaultResource: body.default_resource,
    deviceFlow: body.device_flow,
    backchannelLogoutUri: body.backchannel_logout_uri,
    backchannelLogoutSessionRequired: body.backchannel_logout_session_required,
    logoUri: body.logo_uri,
    clientUri: body.client_uri,
    policyUri: body.policy_uri,
    tosUri: body.tos_uri,
  };
}

export function clientRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/clients',
      operationId: 'listClients',
      summary: 'List clients (oldest first)',
      tags,
      scope: ADMIN_READ_SCOPE,
      query: PageQuery,
      responses: { 200: { description: 'a page of clients', schema: pageOf(Client, 'ClientPage'), example: { items: [clientExample] } } },
      async handle({ query }) {
        const page = await admin.clients.page(query);
        return pageBody(page, clientView);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/clients',
      operationId: 'createClient',
      summary: 'Register a client; its secret is in this response only',
      tags,
      scope: ADMIN_SCOPE,
      body: CreateClient,
      bodyExample: { client_name: 'Billing', redirect_uris: ['https://billing.example.com/callback'] },
      responses: {
        201: {
          description: 'created',
          schema: CreatedClient,
          example: { client: clientExample, client_secret: 'q3Jd0m5cX9sVbP2rT8yL1wK4nH6gF7aE0zQ3uI5oY2c' },
        },
      },
      async handle({ ctx, body, caller }) {
        const { client, clientSecret } = await admin.clients.create(
          actorOf(caller),
          {
            ...(registration(body) as CreateClientInput),
            name: body.client_name,
            redirectUris: body.redirect_uris,
            public: body.public,
          },
          metaOf(ctx),
        );
        const view = clientView(client);
        return {
          status: 201,
          body: { client: view, ...(clientSecret ? { client_secret: clientSecret } : {}) },
          headers: { Location: `${ctx.path}/${client.clientId}` },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/clients/{client_id}',
      operationId: 'getClient',
      summary: 'One client (with an ETag)',
      tags,
      scope: ADMIN_READ_SCOPE,
      params: ClientIdParams,
      responses: { 200: { description: 'the client', schema: Client, example: clientExample }, 404: { description: 'no such client' } },
      async handle({ params }) {
        return withEtag(clientView(await admin.clients.get(params.client_id)));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/clients/{client_id}',
      operationId: 'updateClient',
      summary: 'Change a client (If-Match required)',
      tags,
      scope: ADMIN_SCOPE,
      description:
        'Fields left out keep their value. The same rules as creating apply. A client cannot ' +
        'become public or confidential, and its secret is changed with rotate-secret.',
      params: ClientIdParams,
      body: UpdateClient,
      bodyExample: { client_name: 'Billing (EU)', redirect_uris: ['https://billing.example.eu/callback'] },
      responses: {
        200: { description: 'the changed client', schema: Client, example: { ...clientExample, client_name: 'Billing (EU)' } },
        404: { description: 'no such client' },
        412: { description: 'If-Match does not match: the client changed since it was read' },
        428: { description: 'If-Match is missing' },
      },
      async handle({ ctx, params, body, caller }) {
        const client = await admin.clients.update(actorOf(caller), params.client_id, registration(body), ifMatch<ClientRecord>(ctx, clientView), metaOf(ctx));
        return withEtag(clientView(client));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/clients/{client_id}',
      operationId: 'deleteClient',
      summary: 'Delete a client with its grants and stored tokens',
      tags,
      scope: ADMIN_SCOPE,
      description: 'If-Match is honoured when sent.',
      params: ClientIdParams,
      responses: { 204: { description: 'deleted' }, 404: { description: 'no such client' }, 412: { description: 'If-Match does not match' } },
      async handle({ ctx, params, caller }) {
        const sent = ctx.get('if-match') ? ifMatch<ClientRecord>(ctx, clientView, false) : undefined;
        await admin.clients.delete(actorOf(caller), params.client_id, sent, metaOf(ctx));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/clients/{client_id}/rotate-secret',
      operationId: 'rotateClientSecret',
      summary: 'A new secret, the old one working for an overlap',
      tags,
      scope: ADMIN_SCOPE,
      description:
        'The new secret works at once; the replaced one keeps working for overlap_seconds (default ' +
        'a day), and a secret replaced earlier stops now. If-Match is honoured when sent.',
      params: ClientIdParams,
      body: RotateSecret,
      bodyExample: { overlap_seconds: 3600 },
      responses: {
        200: {
          description: 'the new secret (shown here only)',
          schema: RotatedSecret,
          example: {
            client_id: clientExample.client_id,
            client_secret: 'Zr8uT1yQ4pL7sK0nB3vC6xM9aD2fG5hJ8kW1eR4tY7u',
            previous_secret_expires_at: '2026-11-23T13:00:00.000Z',
          },
        },
        404: { description: 'no such client' },
        409: { description: 'a public client has no secret' },
      },
      async handle({ ctx, params, body, caller }) {
        const sent = ctx.get('if-match') ? ifMatch<ClientRecord>(ctx, clientView, false) : undefined;
        const { client, clientSecret } = await admin.clients.rotateSecret(actorOf(caller), params.client_id, body.overlap_seconds, sent, metaOf(ctx));
        return {
          status: 200,
          body: {
            client_id: client.clientId,
            client_secret: clientSecret,
            previous_secret_expires_at: client.secrets.previous?.expiresAt.toISOString() ?? null,
          },
        };
      },
    }),
  ];
}
