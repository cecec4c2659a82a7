// urlencoded request bodies, read with a size cap: for our own form routes,
// and for the protocol endpoints in front of the provider (which then uses
// the parsed body), so that the rate limits and the token pre-parser can
// read who is calling.
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';

const FORM_LIMIT = 16 * 1024;

const prematureClose = () => Object.assign(new Error('the request ended before its body'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });

/**
 * The body as UTF-8 text, or undefined when it is larger than `limit` bytes.
 * Reading stops there, and the answer closes the connection: Node does not
 * drain a request that was being read, and the next request on a kept-alive
 * connection would start in the middle of this one's body. Read through the
 * stream's events rather than `for await`, whose iterator made a dozen
 * promises a request: 4–6 µs of every token and introspection request
 * (bench/README.md, "Stop 51").
 */
export function readBodyText(ctx: Context, limit: number): Promise<string | undefined> {
  const req = ctx.req;
  if (req.readableEnded) return Promise.resolve('');
  // Gone while an earlier middleware awaited: its 'close' has been and gone.
  if (req.destroyed) return Promise.reject(prematureClose());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      stop();
      req.pause();
      ctx.set('Connection', 'close');
      resolve(undefined);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    // The client went away before the end of its body.
    const onClose = () => onError(prematureClose());
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The body's parameters, or undefined when it is larger than `limit` bytes. */
export async function readUrlEncoded(ctx: Context, limit: number): Promise<URLSearchParams | undefined> {
  const text = await readBodyText(ctx, limit);
  return text === undefined ? undefined : new URLSearchParams(text);
}

export async function readFormBody(ctx: Context): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new AppError('invalid_input', 'Expected a form submission.');
  }
  const params = await readUrlEncoded(ctx, FORM_LIMIT);
  if (!params) throw new AppError('invalid_input', 'The form submission is too large.');
  // Every value, for fields a form repeats (checkboxes): formValues().
  ctx.state.formParams = params;
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!(k in out)) out[k] = v;
  return out;
}

/** Every value of a field the form sent more than once (checkboxes), in order. */
export const formValues = (ctx: Context, name: string): string[] => (ctx.state.formParams as URLSearchParams | undefined)?.getAll(name) ?? [];

export async function formBody(ctx: Context, next: Next): Promise<void> {
  ctx.request.body = await readFormBody(ctx);
  await next();
}

/** Protocol request bodies (token, introspection, revocation) are at most this large. */
export const PROTOCOL_BODY_LIMIT = 64 * 1024;

/**
 * Parses the form body of POSTs to `paths` once, into ctx.request.body;
 * repeated parameters stay visible as arrays so the provider can refuse
 * them. Too large a body is refused unread (413, OAuth JSON).
 */
export function protocolFormBody(paths: string[]) {
  const wanted = new Set(paths);
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || !wanted.has(ctx.path) || !ctx.is('application/x-www-form-urlencoded')) return next();
    const params = await readUrlEncoded(ctx, PROTOCOL_BODY_LIMIT);
    if (!params) {
      ctx.status = 413;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'invalid_request', error_description: `request body exceeds ${PROTOCOL_BODY_LIMIT / 1024} KiB` };
      return;
    }
    const body: Record<string, string | string[]> = {};
    for (const [k, v] of params) {
      const prev = body[k];
      body[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
    }
    ctx.request.body = body;
    await next();
  };
}
