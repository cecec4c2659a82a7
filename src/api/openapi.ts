// The OpenAPI 3.1 document of the JSON API, generated from the route
// registry's own zod schemas (z.toJSONSchema, JSON Schema 2020-12, which is
// OpenAPI 3.1's schema dialect). Named schemas (`.meta({ id })`) and each
// operation's request and response bodies become components.
import * as z from 'zod';
import type { ApiRegistry, RouteSpec } from './registry.ts';
import { PROBLEM_TYPE } from './problem.ts';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
  /** The server's issuer: the API is served at issuer + registry.base. */
  issuer: string;
  /** The API's resource indicator (the `resource` to request tokens for). */
  resource: string;
  /** What each scope allows, for the security scheme. */
  scopeDescriptions?: Record<string, string>;
}

const SECURITY = 'latchkey';
const REF = (id: string) => `#/components/schemas/${id}`;
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const problemSchema = z
  .object({
    type: z.string().describe('a URN naming the kind of problem, e.g. urn:latchkey:problem:validation'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe('what went wrong and how to fix it'),
    instance: z.string().describe('the request path'),
    request_id: z.string().optional().describe('the X-Request-ID of the request; quote it when asking for help'),
    errors: z
      .array(
        z.object({
          in: z.enum(['body', 'query', 'path', 'header']),
          pointer: z.string().describe('JSON Pointer (RFC 6901) to the field, as a URI fragment'),
          field: z.string().describe('the same path, dotted'),
          detail: z.string(),
        }),
      )
      .optional()
      .describe('every bad field, for 400 validation problems'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

function namedId(schema: z.ZodType): string | undefined {
  const id = z.globalRegistry.get(schema)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** Component schemas of one direction (request bodies are read as input, responses as output). */
function components(entries: [string, z.ZodType][], io: 'input' | 'output'): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  const seen = new Map<string, z.ZodType>();
  for (const [id, schema] of entries) {
    const prior = seen.get(id);
    if (prior && prior !== schema) throw new Error(`two different schemas are named ${id}`);
    if (!prior) registry.add(schema, { id });
    seen.set(id, schema);
  }
  const { schemas } = z.toJSONSchema(registry, { uri: REF, io, unrepresentable: 'any' });
  // Nested schemas named only in zod's global registry land in a "__shared" bag; make them components too.
  const text = JSON.stringify(schemas).replaceAll(`${REF('__shared')}#/$defs/`, REF(''));
  const out = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const shared = (out.__shared?.$defs ?? {}) as Record<string, Record<string, unknown>>;
  delete out.__shared;
  Object.assign(out, shared);
  for (const schema of Object.values(out)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return out;
}

function parameters(where: 'path' | 'query', schema: z.ZodType | undefined) {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || (json.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

export function buildOpenApiDocument(registry: ApiRegistry, info: OpenApiInfo): Record<string, unknown> {
  const inputs: [string, z.ZodType][] = [];
  const outputs: [string, z.ZodType][] = [['Problem', problemSchema]];
  const bodyRef = new Map<RouteSpec, string>();
  const responseRef = new Map<string, string>();
  for (const route of registry.routes) {
    if (route.body) {
      const id = namedId(route.body) ?? `${pascal(route.operationId)}Request`;
      inputs.push([id, route.body]);
      bodyRef.set(route, id);
    }
    if (route.stream) {
      const id = namedId(route.stream.line) ?? `${pascal(route.operationId)}Line`;
      inputs.push([id, route.stream.line]);
      bodyRef.set(route, id);
    }
    for (const [status, res] of Object.entries(route.responses)) {
      if (!res.schema) continue;
      const id = namedId(res.schema) ?? `${pascal(route.operationId)}Response${status}`;
      outputs.push([id, res.schema]);
      responseRef.set(`${route.operationId} ${status}`, id);
    }
  }
  const inputSchemas = components(inputs, 'input');
  const outputSchemas = components(outputs, 'output');
  for (const id of Object.keys(inputSchemas)) {
    if (id in outputSchemas && JSON.stringify(inputSchemas[id]) !== JSON.stringify(outputSchemas[id])) {
      throw new Error(`schema ${id} differs as a request and as a response; name them apart`);
    }
  }

  const problemResponse = (description: string) => ({ description, content: { [PROBLEM_TYPE]: { schema: { $ref: REF('Problem') } } } });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of registry.routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(route.responses)) {
      const id = responseRef.get(`${route.operationId} ${status}`);
      responses[status] = {
        description: res.description,
        ...(id ? { content: { 'application/json': { schema: { $ref: REF(id) }, ...(res.example !== undefined ? { example: res.example } : {}) } } } : {}),
      };
    }
    if (route.body || route.query || route.params) responses['400'] ??= problemResponse('the request is invalid; `errors` names each bad field');
    if (route.stream) responses['415'] ??= problemResponse(`the body must be ${route.stream.mediaTypes.join(' or ')}`);
    if (route.scope !== null) {
      responses['401'] ??= problemResponse('no valid access token for this API (see WWW-Authenticate)');
      responses['403'] ??= problemResponse(`the access token lacks the scope ${route.scope}`);
    }
    const bodyId = bodyRef.get(route);
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.tags ? { tags: route.tags } : {}),
      parameters: [...parameters('path', route.params), ...parameters('query', route.query)],
      ...(bodyId && route.stream
        ? {
            // JSON Lines: each line is one value of the schema (OpenAPI 3.1 has no item schema for sequences).
            requestBody: {
              required: true,
              description: `One JSON object per line, each a ${bodyId}; read as it arrives.`,
              content: Object.fromEntries(route.stream.mediaTypes.map((t) => [t, { schema: { $ref: REF(bodyId) }, example: route.stream!.example }])),
            },
          }
        : bodyId
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: { $ref: REF(bodyId) }, ...(route.bodyExample !== undefined ? { example: route.bodyExample } : {}) } },
              },
            }
          : {}),
      responses,
      security: route.scope === null ? [] : [{ [SECURITY]: [route.scope] }],
    };
  }

  const scopes = Object.fromEntries(registry.scopes().map((s) => [s, info.scopeDescriptions?.[s] ?? s]));
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: info.title,
      version: info.version,
      description:
        `${info.description ? `${info.description}\n\n` : ''}` +
        `Authenticate with a JWT access token from this server issued for the resource \`${info.resource}\` with the scope each operation names. ` +
        `Errors are RFC 9457 problem documents (${PROBLEM_TYPE}).`,
    },
    servers: [{ url: `${info.issuer}${registry.base}` }],
    paths,
    components: {
      schemas: { ...outputSchemas, ...inputSchemas },
      securitySchemes: {
        [SECURITY]: {
          type: 'oauth2',
          description:
            `Access tokens for resource ${info.resource} (request them with resource=${info.resource}), sent as Authorization: ` +
            `Bearer <token>; a DPoP-bound token as Authorization: DPoP <token> with a DPoP proof (RFC 9449) for each request.`,
          flows: {
            authorizationCode: { authorizationUrl: `${info.issuer}/auth`, tokenUrl: `${info.issuer}/token`, scopes },
            clientCredentials: { tokenUrl: `${info.issuer}/token`, scopes },
          },
        },
      },
    },
  };
}
