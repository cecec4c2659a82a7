// /admin/api/v1/service-accounts: machines that get tokens with their own keys.
import type { JWK } from 'jose';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../services/admin/administration.ts';
import { serviceAccountView } from '../views.ts';
import { JWT_BEARER, type ServiceAccountView, type ServiceGrant } from '../../services/machines/service-accounts.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';
import { ifMatch, withEtag } from './preconditions.ts';
import {
  AddedKeys,
  AddKeys,
  ClientIdParams,
  CreatedServiceAccount,
  CreateServiceAccount,
  KeyParams,
  ServiceAccount,
  serviceAccountExample,
  UpdateServiceAccount,
  RotateSharedSecret,
  RotatedSharedSecret,
} from './schemas.ts';
import { PageQuery, pageOf, pageBody } from '../list-queries.ts';

const tags = ['service accounts'];
const GRANTS: Record<string, ServiceGrant> = { 'jwt-bearer': JWT_BEARER, client_credentials: 'client_credentials' };

export function serviceAccountRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/service-accounts',
      operationId: 'listServiceAccounts',
      summary: 'List service accounts (oldest first)',
      tags,
      scope: ADMIN_READ_SCOPE,
      query: PageQuery,
      responses: {
        200: { description: 'a page of service accounts', schema: pageOf(ServiceAccount, 'ServiceAccountPage'), example: { items: [serviceAccountExample] } },
      },
      async handle({ query }) {
        const page = await admin.serviceAccounts.page(query);
        return pageBody(page, serviceAccountView);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/service-accounts',
      operationId: 'createServiceAccount',
      summary: 'Create a service account',
      tags,
      scope: ADMIN_SCOPE,
      description:
        'Exactly one credential: generate_key (the private key is in this response only), jwks (public keys you hold the private halves of), shared_secret ' +
        "(HS256, jwt-bearer only; in this response only) or import_shared_secret (a partner's existing HS256 secret, with client_id to keep their id).",
      body: CreateServiceAccount,
      bodyExample: { name: 'inventory-sync', scope: 'cmdb.read cmdb.write', default_scope: 'cmdb.read', generate_key: 'ES256' },
      responses: {
        201: {
          description: 'created',
          schema: CreatedServiceAccount,
          example: {
            service_account: serviceAccountExample,
            private_key: { kty: 'EC', crv: 'P-256', x: '…', y: '…', d: '…', kid: serviceAccountExample.keys[0]!.kid, alg: 'ES256', use: 'sig' },
          },
        },
      },
      async handle({ ctx, body, caller }) {
        const { account, privateJwk, sharedSecret } = await admin.serviceAccounts.create(
          actorOf(caller),
          {
            name: body.name,
            scope: body.scope,
            defaultScope: body.default_scope,
            grants: body.grant_types?.map((g) => GRANTS[g]!),
            generateKey: body.generate_key,
            jwks: body.jwks?.keys as JWK[] | undefined,
            sharedSecret: body.shared_secret,
            importedSecret: body.import_shared_secret,
            clientId: body.client_id,
            selfSignedMaxLifetime: body.self_signed_max_lifetime,
            keyExpiresAt: body.key_expires_at ? new Date(body.key_expires_at) : undefined,
          },
          metaOf(ctx),
        );
        return {
          status: 201,
          body: {
            service_account: serviceAccountView(account),
            ...(privateJwk ? { private_key: privateJwk } : {}),
            ...(sharedSecret ? { shared_secret: sharedSecret } : {}),
          },
          headers: { Location: `${ctx.path}/${account.clientId}` },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/service-accounts/{client_id}',
      operationId: 'getServiceAccount',
      summary: 'One service account (with an ETag)',
      tags,
      scope: ADMIN_READ_SCOPE,
      params: ClientIdParams,
      responses: { 200: { description: 'the account', schema: ServiceAccount, example: serviceAccountExample }, 404: { description: 'no such account' } },
      async handle({ params }) {
        return withEtag(serviceAccountView(await admin.serviceAccounts.get(params.client_id)));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/service-accounts/{client_id}',
      operationId: 'updateServiceAccount',
      summary: 'Disable or enable (If-Match required)',
      tags,
      scope: ADMIN_SCOPE,
      description: "Disabling revokes the account's stored tokens and refuses its admin-API tokens at once.",
      params: ClientIdParams,
      body: UpdateServiceAccount,
      bodyExample: { disabled: true },
      responses: {
        200: { description: 'the account', schema: ServiceAccount, example: { ...serviceAccountExample, disabled: true } },
        404: { description: 'no such account' },
        412: { description: 'If-Match does not match' },
        428: { description: 'If-Match is missing' },
      },
      async handle({ ctx, params, body, caller }) {
        const account = await admin.serviceAccounts.setDisabled(
          actorOf(caller),
          params.client_id,
          body.disabled,
          ifMatch<ServiceAccountView>(ctx, serviceAccountView),
          metaOf(ctx),
        );
        return withEtag(serviceAccountView(account));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/service-accounts/{client_id}/keys',
      operationId: 'addServiceAccountKeys',
      summary: 'Register more public keys (rollover)',
      tags,
      scope: ADMIN_SCOPE,
      params: ClientIdParams,
      body: AddKeys,
      bodyExample: {
        jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'edge-2027' }] },
        expires_at: '2027-06-30T00:00:00Z',
      },
      responses: {
        201: { description: 'the kids added', schema: AddedKeys, example: { client_id: serviceAccountExample.client_id, added: ['edge-2027'] } },
        404: { description: 'no such account' },
        409: { description: 'a kid is taken' },
      },
      async handle({ ctx, params, body, caller }) {
        const added = await admin.serviceAccounts.addKeys(
          actorOf(caller),
          params.client_id,
          body.jwks.keys as JWK[],
          body.expires_at ? new Date(body.expires_at) : undefined,
          metaOf(ctx),
        );
        return { status: 201, body: { client_id: params.client_id, added } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/service-accounts/{client_id}/keys/{kid}',
      operationId: 'removeServiceAccountKey',
      summary: 'Remove a key',
      tags,
      scope: ADMIN_SCOPE,
      params: KeyParams,
      responses: { 204: { description: 'removed' }, 404: { description: 'no such account or key' } },
      async handle({ ctx, params, caller }) {
        await admin.serviceAccounts.removeKey(actorOf(caller), params.client_id, params.kid, metaOf(ctx));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/service-accounts/{client_id}/rotate-secret',
      operationId: 'rotateServiceAccountSecret',
      summary: "A partner account's new shared secret, the old one working for an overlap",
      tags,
      scope: ADMIN_SCOPE,
      description:
        'For accounts that sign with a shared secret (HS256). The new secret works at once; ' +
        'the replaced one keeps verifying assertions and self-signed tokens for overlap_seconds (default a day). ' +
        "Give shared_secret to set the partner's own new secret; otherwise one is generated and is in this response only.",
      params: ClientIdParams,
      body: RotateSharedSecret,
      bodyExample: { overlap_seconds: 3600 },
      responses: {
        200: {
          description: 'rotated',
          schema: RotatedSharedSecret,
          example: {
            client_id: serviceAccountExample.client_id,
            shared_secret: 'Zr8uT1yQ4pL7sK0nB3vC6xM9aD2fG5hJ8kW1eR4tY7u',
            previous_secret_expires_at: '2026-11-23T13:00:00.000Z',
          },
        },
        404: { description: 'no such account' },
        409: { description: 'the account signs with keys, not a shared secret' },
      },
      async handle({ ctx, params, body, caller }) {
        const rotated = await admin.serviceAccounts.rotateSecret(actorOf(caller), params.client_id, body.overlap_seconds, body.shared_secret, metaOf(ctx));
        return {
          status: 200,
          body: {
            client_id: params.client_id,
            ...(rotated.sharedSecret ? { shared_secret: rotated.sharedSecret } : {}),
            previous_secret_expires_at: rotated.previousExpiresAt?.toISOString() ?? null,
          },
        };
      },
    }),
  ];
}
