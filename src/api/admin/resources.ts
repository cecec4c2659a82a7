// /admin/api/v1/resources: APIs (RFC 8707 audiences) and their scopes.
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../services/administration.ts';
import { resourceView } from '../../services/admin-views.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';
import { withEtag } from './preconditions.ts';
import { CreateResource, Resource, resourceExample, ResourceParams, Resources } from './schemas.ts';

const tags = ['resources'];

export function resourceRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'get', path: '/resources', operationId: 'listResources', summary: 'List API resources', tags, scope: ADMIN_READ_SCOPE,
      responses: { 200: { description: 'every resource', schema: Resources, example: { items: [resourceExample] } } },
      async handle() {
        return { status: 200, body: { items: (await admin.resources.list()).map(resourceView) } };
      },
    }),
    defineRoute({
      method: 'post', path: '/resources', operationId: 'createResource', summary: 'Register an API resource', tags, scope: ADMIN_SCOPE,
      body: CreateResource,
      bodyExample: { identifier: 'https://api.example.com', scope: 'cmdb.read cmdb.write', format: 'jwt', ttl: 3600, claims: ['email', 'roles'] },
      responses: { 201: { description: 'created', schema: Resource, example: resourceExample }, 409: { description: 'already registered' } },
      async handle({ ctx, body, caller }) {
        const created = resourceView(await admin.resources.create(actorOf(caller), { ...body, claims: body.claims?.join(' ') }, metaOf(ctx)));
        return { ...withEtag(created, 201), headers: { ...withEtag(created).headers, Location: `${ctx.path}/${encodeURIComponent(created.identifier)}` } };
      },
    }),
    defineRoute({
      method: 'get', path: '/resources/{identifier}', operationId: 'getResource', summary: 'One resource (identifier percent-encoded)', tags, scope: ADMIN_READ_SCOPE,
      params: ResourceParams,
      responses: { 200: { description: 'the resource', schema: Resource, example: resourceExample }, 404: { description: 'no such resource' } },
      async handle({ params }) {
        return withEtag(resourceView(await admin.resources.get(params.identifier)));
      },
    }),
    defineRoute({
      method: 'delete', path: '/resources/{identifier}', operationId: 'deleteResource', summary: 'Delete a resource', tags, scope: ADMIN_SCOPE,
      params: ResourceParams,
      responses: { 204: { description: 'deleted' }, 404: { description: 'no such resource' } },
      async handle({ ctx, params, caller }) {
        await admin.resources.delete(actorOf(caller), params.identifier, metaOf(ctx));
        return { status: 204 };
      },
    }),
  ];
}
