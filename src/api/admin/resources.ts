// /admin/api/v1/resources: APIs (RFC 8707 audiences) and their scopes.
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../services/admin/administration.ts';
import { resourceView } from '../views.ts';
import type { ResourceServerRecord } from '../../services/apis/resource-servers.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';
import { ifMatch, withEtag } from './preconditions.ts';
import { CreateResource, Resource, resourceExample, ResourceParams, Resources, UpdateResource } from './schemas.ts';

/** The service's input from a request body (the same fields for create and update). */
const resourceInput = <T extends { claims?: string[]; scope_roles?: Record<string, string[]>; machines_only?: boolean }>({
  claims,
  scope_roles,
  machines_only,
  ...rest
}: T) => ({
  ...rest,
  claims: claims?.join(' '),
  scopeRoles: scope_roles,
  machinesOnly: machines_only,
});

const tags = ['resources'];

export function resourceRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/resources',
      operationId: 'listResources',
      summary: 'List API resources',
      tags,
      scope: ADMIN_READ_SCOPE,
      responses: { 200: { description: 'every resource', schema: Resources, example: { items: [resourceExample] } } },
      async handle() {
        return { status: 200, body: { items: (await admin.resources.list()).map(resourceView) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/resources',
      operationId: 'createResource',
      summary: 'Register an API resource',
      tags,
      scope: ADMIN_SCOPE,
      description:
        'A person holds a scope in `scope_roles` only while they have one of its roles, and no scope of a `machines_only` resource: ' +
        'through an app, on a key of their own, when that key is exchanged or introspected.',
      body: CreateResource,
      bodyExample: {
        identifier: 'https://api.example.com',
        scope: 'cmdb.read cmdb.write admin.users',
        format: 'jwt',
        ttl: 3600,
        claims: ['email', 'roles'],
        scope_roles: { 'cmdb.write': ['admin', 'ops'], 'admin.users': ['admin'] },
      },
      responses: { 201: { description: 'created', schema: Resource, example: resourceExample }, 409: { description: 'already registered' } },
      async handle({ ctx, body, caller }) {
        const created = resourceView(await admin.resources.create(actorOf(caller), resourceInput(body), metaOf(ctx)));
        return { ...withEtag(created, 201), headers: { ...withEtag(created).headers, Location: `${ctx.path}/${encodeURIComponent(created.identifier)}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/resources/{identifier}',
      operationId: 'getResource',
      summary: 'One resource (identifier percent-encoded)',
      tags,
      scope: ADMIN_READ_SCOPE,
      params: ResourceParams,
      responses: { 200: { description: 'the resource', schema: Resource, example: resourceExample }, 404: { description: 'no such resource' } },
      async handle({ params }) {
        return withEtag(resourceView(await admin.resources.get(params.identifier)));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/resources/{identifier}',
      operationId: 'updateResource',
      summary: 'Change a resource (If-Match required)',
      tags,
      scope: ADMIN_SCOPE,
      description:
        'Fields left out keep their value. A role taken off a scope, or a resource made machines-only, takes the scope from people at once: ' +
        'their keys are narrowed at the next introspection or exchange, their tokens at the next issue or refresh.',
      params: ResourceParams,
      body: UpdateResource,
      bodyExample: { scope_roles: { 'cmdb.write': ['admin'], 'cmdb.read': [] } },
      responses: {
        200: {
          description: 'the changed resource',
          schema: Resource,
          example: { ...resourceExample, scope_roles: { 'cmdb.write': ['admin'], 'admin.users': ['admin'] } },
        },
        404: { description: 'no such resource' },
        412: { description: 'If-Match does not match: the resource changed since it was read' },
        428: { description: 'If-Match is missing' },
      },
      async handle({ ctx, params, body, caller }) {
        const updated = await admin.resources.update(
          actorOf(caller),
          params.identifier,
          resourceInput(body),
          ifMatch<ResourceServerRecord>(ctx, resourceView),
          metaOf(ctx),
        );
        return withEtag(resourceView(updated));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/resources/{identifier}',
      operationId: 'deleteResource',
      summary: 'Delete a resource',
      tags,
      scope: ADMIN_SCOPE,
      params: ResourceParams,
      responses: { 204: { description: 'deleted' }, 404: { description: 'no such resource' } },
      async handle({ ctx, params, caller }) {
        await admin.resources.delete(actorOf(caller), params.identifier, metaOf(ctx));
        return { status: 204 };
      },
    }),
  ];
}
