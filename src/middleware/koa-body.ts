// A small urlencoded body parser for our own form routes, with a size cap.
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';

const LIMIT = 16 * 1024;

export async function readFormBody(ctx: Context): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new AppError('invalid_input', 'Expected a form submission.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new AppError('invalid_input', 'The form submission is too large.');
    chunks.push(chunk as Buffer);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!(k in out)) out[k] = v;
  return out;
}

export async function formBody(ctx: Context, next: Next): Promise<void> {
  ctx.request.body = await readFormBody(ctx);
  await next();
}
