// Lost updates: every read carries an ETag (a hash of the representation),
// and every update must send it back in If-Match. Without it the answer is
// 428; with a stale one, 412 and nothing changes. The check runs inside the
// service's update, on the row it is about to change (no second read).
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { problem } from '../problem.ts';

export const etagOf = (view: unknown) => `"${createHash('sha256').update(JSON.stringify(view)).digest('base64url').slice(0, 27)}"`;

/** A precondition for a service's update: the current object's view must match If-Match. */
export function ifMatch<T>(ctx: Context, view: (current: T) => unknown, required = true): (current: T) => void {
  const header = ctx.get('if-match').trim();
  return (current) => {
    if (!header) {
      if (required)
        throw problem.preconditionRequired("send If-Match with the ETag of your last read of this object, so that nobody else's change is overwritten");
      return;
    }
    if (header === '*') return;
    const tag = etagOf(view(current));
    const offered = header.split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (!offered.includes(tag))
      throw problem.preconditionFailed('the object changed since you read it (If-Match does not match its ETag); read it again and reapply your change');
  };
}

/** An answer with the view and its ETag (of `tagged`, when the body holds more than an update can change). */
export const withEtag = (view: unknown, status = 200, tagged: unknown = view) => ({ status, body: view, headers: { ETag: etagOf(tagged) } });
