// urlencoded request bodies, read with a size cap: for our own form routes,
// and for the token endpoint's pre-parser (src/oidc/token-preparser.ts).
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';

const FORM_LIMIT = 16 * 1024;

/** The body's parameters, or undefined when it is larger than `limit` bytes (the rest is discarded unread). */
export async function readUrlEncoded(ctx: Context, limit: number): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      ctx.req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function readFormBody(ctx: Context): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new AppError('invalid_input', 'Expected a form submission.');
  }
  const params = await readUrlEncoded(ctx, FORM_LIMIT);
  if (!params) throw new AppError('invalid_input', 'The form submission is too large.');
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!(k in out)) out[k] = v;
  return out;
}

export async function formBody(ctx: Context, next: Next): Promise<void> {
  ctx.request.body = await readFormBody(ctx);
  await next();
}
