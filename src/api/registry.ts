// A tiny route registry for the JSON API. Each route is declared once, with
// its zod schemas, required scope and documented responses; the same
// declaration dispatches requests (authenticate → validate → handle) and
// generates the OpenAPI document (src/api/openapi.ts), so the document
// cannot drift from what the code accepts.
import type { Context, Next } from 'koa';
import type * as z from 'zod';
import type { ApiCaller, BearerAuth } from './bearer-auth.ts';
import { problem } from './problem.ts';
import { readJsonBody, readParams, readQuery } from './validate.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  /** The JSON body; omitted for bodiless answers (204). */
  schema?: z.ZodType;
  example?: unknown;
}

export interface RouteInput<P, Q, B, S> {
  ctx: Context;
  params: P;
  query: Q;
  body: B;
  /** The authenticated caller; undefined only for routes with `scope: null`. */
  caller: S extends string ? ApiCaller : undefined;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  S extends string | null = string | null,
> {
  method: HttpMethod;
  /** Relative to the API's base path, OpenAPI style: `/me/api-keys/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** The scope an access token must carry; null for an unauthenticated route. */
  scope: S;
  params?: P;
  query?: Q;
  body?: B;
  /** An example request body for the document. */
  bodyExample?: unknown;
  /**
   * A body the handler reads itself as it arrives (JSON Lines imports): its
   * media types, the schema of one line, an example. Not read nor checked here.
   */
  stream?: { mediaTypes: string[]; line: z.ZodType; example: string };
  responses: Record<number, ResponseSpec>;
  handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>, S>): Promise<RouteResult> | RouteResult;
}

/** Identity, for inference: `defineRoute({ ... })` types `handle`'s input from the schemas. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, S extends string | null>(spec: RouteSpec<P, Q, B, S>): RouteSpec {
  return spec as unknown as RouteSpec;
}

interface Compiled {
  spec: RouteSpec;
  pattern: RegExp;
  names: string[];
}

function compile(spec: RouteSpec): Compiled {
  const names: string[] = [];
  const source = spec.path
    .split('/')
    .map((part) => {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(part);
      if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { spec, pattern: new RegExp(`^${source}$`), names };
}

export interface ApiRegistry {
  /** The base path every route is under, e.g. `/api/v1`. */
  readonly base: string;
  readonly routes: readonly RouteSpec[];
  add(...routes: RouteSpec[]): void;
  /** Every scope some route requires (the API resource must define them). */
  scopes(): string[];
  /** Koa middleware dispatching requests under `base`; anything else goes to `next`. */
  middleware(): (ctx: Context, next: Next) => Promise<void>;
}

export function createApiRegistry(base: string, auth: BearerAuth): ApiRegistry {
  const compiled: Compiled[] = [];
  const routes: RouteSpec[] = [];

  async function run(ctx: Context, { spec, names }: Compiled, match: RegExpExecArray) {
    const raw: Record<string, string> = {};
    try {
      for (const [i, name] of names.entries()) raw[name] = decodeURIComponent(match[i + 1]!);
    } catch {
      throw problem.badRequest('a path parameter is not valid percent-encoding');
    }
    // Authentication first: an anonymous caller learns nothing about what a valid request looks like.
    const caller = spec.scope === null ? undefined : await auth.authenticate(ctx, spec.scope);
    ctx.params = raw;
    const params = spec.params ? readParams(ctx, spec.params) : raw;
    const query = spec.query ? readQuery(ctx, spec.query) : {};
    const body = spec.body ? await readJsonBody(ctx, spec.body) : undefined;
    const result = await spec.handle({ ctx, params, query, body, caller } as RouteInput<unknown, unknown, unknown, string>);
    for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
    ctx.status = result.status;
    if (result.body !== undefined) ctx.body = result.body;
  }

  return {
    base,
    routes,
    add(...more) {
      for (const spec of more) {
        if (routes.some((r) => r.operationId === spec.operationId)) throw new Error(`duplicate operationId ${spec.operationId}`);
        if (routes.some((r) => r.method === spec.method && r.path === spec.path)) throw new Error(`duplicate route ${spec.method} ${spec.path}`);
        routes.push(spec);
        compiled.push(compile(spec));
      }
    },
    scopes() {
      return [...new Set(routes.map((r) => r.scope).filter((s): s is string => typeof s === 'string'))].sort();
    },
    middleware() {
      return async (ctx, next) => {
        if (ctx.path !== base && !ctx.path.startsWith(`${base}/`)) return next();
        const rel = ctx.path.slice(base.length) || '/';
        const method = ctx.method.toLowerCase();
        const allowed: string[] = [];
        for (const c of compiled) {
          const match = c.pattern.exec(rel);
          if (!match) continue;
          if (c.spec.method === method || (method === 'head' && c.spec.method === 'get')) return run(ctx, c, match);
          allowed.push(c.spec.method.toUpperCase());
        }
        if (allowed.length) throw problem.methodNotAllowed(`${ctx.method} is not supported here; use ${allowed.join(' or ')}`, allowed);
        throw problem.notFound(`no API operation at ${ctx.path}; the OpenAPI document lists them all`);
      };
    },
  };
}
