// Argument parsing for every CLI command: node's parseArgs, with its errors
// turned into one-line usage errors, and an unknown option answered with the
// nearest one the command takes (`--redirect_uri` → `--redirect-uri`).
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './output.ts';

/** Levenshtein distance, with a swap of two neighbours counting as one edit. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word`, if it is close enough to be what was meant. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  // `_` for `-` and capitals are the usual slips: they cost nothing.
  const norm = (s: string) => s.toLowerCase().replace(/_/g, '-');
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(norm(word), norm(name));
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(norm(word).length / 3)) ? best.name : undefined;
}

/** node's util.parseArgs; a bad argument throws a UsageError (exit 2) saying what to type instead. */
export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof nodeParseArgs<T>> {
  try {
    return nodeParseArgs(config);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    const message = (err as Error).message;
    const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (unknown) {
      const names = Object.keys(config.options ?? {});
      const guess = nearest(unknown.replace(/^-+/, '').split('=')[0]!, names);
      throw new UsageError(
        `unknown option ${unknown}${guess ? ` (did you mean --${guess}?)` : names.length ? `; this command takes ${names.map((n) => `--${n}`).join(', ')}` : ''}`,
      );
    }
    // Node's own sentences, first one only: they name the option and what was wrong.
    throw new UsageError(message.split('. ')[0]!.replace(/^\w/, (c) => c.toLowerCase()));
  }
}
