// A JSON Lines request body (the imports), read as it arrives: the media
// type is checked, the rest is the import's (src/services/admin/json-lines.ts).
import type { Context } from 'koa';
import { readJsonLines, type JsonLine } from '../../services/admin/json-lines.ts';
import { problem } from '../problem.ts';

export const JSON_LINES_TYPES = ['application/x-ndjson', 'application/jsonl'];

export function jsonLinesBody(ctx: Context): AsyncIterable<JsonLine> {
  if (!ctx.is(...JSON_LINES_TYPES)) {
    throw problem.unsupportedMediaType(`send one JSON object per line as application/x-ndjson (got ${ctx.get('content-type') || 'no Content-Type'})`);
  }
  return readJsonLines(ctx.req);
}

export const importOptions = (query: { dry_run?: 'true' | 'false'; on_conflict?: 'skip' | 'update' | 'fail' }) => ({
  dryRun: query.dry_run === 'true',
  onConflict: query.on_conflict,
});
