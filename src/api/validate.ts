// The guard: request bodies, query strings and path parameters are parsed
// with zod, and a request that does not fit is answered 400 naming every bad
// field (its JSON Pointer and what is wrong), never half-processed.
import type { Context } from 'koa';
import type * as z from 'zod';
import { readBodyText } from '../middleware/koa-body.ts';
import { problem, type FieldError } from './problem.ts';

/** JSON request bodies are at most this large. */
export const JSON_BODY_LIMIT = 64 * 1024;

const escapePointer = (part: PropertyKey) => String(part).replace(/~/g, '~0').replace(/\//g, '~1');

export function fieldErrors(where: FieldError['in'], error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    // An unknown member is named itself, not its parent object.
    const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    for (const path of paths) {
      out.push({
        in: where,
        pointer: `#/${path.map(escapePointer).join('/')}`.replace(/\/$/, ''),
        field: path.map(String).join('.'),
        detail: issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message,
      });
    }
  }
  return out;
}

function summary(errors: FieldError[]): string {
  const named = errors.map((e) => (e.field ? `${e.field}: ${e.detail}` : e.detail));
  return `the request has ${errors.length === 1 ? 'an invalid field' : `${errors.length} invalid fields`} — ${named.join('; ')}`;
}

export function check<S extends z.ZodType>(schema: S, value: unknown, where: FieldError['in']): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors = fieldErrors(where, parsed.error);
  throw problem.badRequest(summary(errors), errors);
}

async function readText(ctx: Context, limit: number): Promise<string> {
  const text = await readBodyText(ctx, limit);
  if (text === undefined) throw problem.tooLarge(`the request body exceeds ${limit / 1024} KiB`);
  return text;
}

/** The JSON body, parsed and checked against `schema`. */
export async function readJsonBody<S extends z.ZodType>(ctx: Context, schema: S): Promise<z.output<S>> {
  if (!ctx.is('application/json', '+json')) {
    throw problem.unsupportedMediaType(`send the request body as application/json (got ${ctx.get('content-type') || 'no Content-Type'})`);
  }
  const text = await readText(ctx, JSON_BODY_LIMIT);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw problem.badRequest(`the request body is not valid JSON: ${(err as Error).message}`, [
      { in: 'body', pointer: '#', field: '', detail: 'is not valid JSON' },
    ]);
  }
  return check(schema, value, 'body');
}

/** Query parameters as an object of strings (a repeated parameter becomes an array), checked against `schema`. */
export function readQuery<S extends z.ZodType>(ctx: Context, schema: S): z.output<S> {
  return check(schema, { ...ctx.query }, 'query');
}

export function readParams<S extends z.ZodType>(ctx: Context, schema: S): z.output<S> {
  return check(schema, { ...(ctx.params as Record<string, string> | undefined) }, 'path');
}
