// The one syntax for a lifetime and for an expiry, wherever one is written:
// API_KEY_MAX_TTL (src/config/env.ts), an API key's expiry on the account
// page, the JSON APIs and the admin CLI (src/services/api-keys/), and the
// schemas the OpenAPI documents show. Base layer: no error types, no clock.

const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** An expiry as written: a duration from now, or an ISO 8601 date (with an optional time and zone). */
export const EXPIRY_SYNTAX = /^(\d{1,5}[mhdw]|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?)$/;
export const DURATION_WORDS = 'a duration (90d, 12h, 30m, 2w)';
export const DATE_WORDS = 'a date (2027-01-31 or 2027-01-31T00:00:00Z)';
/** What EXPIRY_SYNTAX accepts, in words (for error messages and forms). */
export const EXPIRY_HINT = `${DURATION_WORDS} or ${DATE_WORDS}`;

/** `90d` / `12h` / `30m` / `2w` in seconds, or undefined for anything else. */
export function parseDuration(value: string): number | undefined {
  const m = /^(\d{1,5})([mhdw])$/.exec(value.trim());
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

/** A lifetime in words: `365 days`, `12 hours`, `90 minutes`. */
export function describeDuration(seconds: number): string {
  const [n, unit] =
    seconds % 86400 === 0
      ? [seconds / 86400, 'day']
      : seconds % 3600 === 0
        ? [seconds / 3600, 'hour']
        : seconds % 60 === 0
          ? [seconds / 60, 'minute']
          : [seconds, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** When an expiry written as EXPIRY_SYNTAX falls, `now` being milliseconds since the epoch; undefined when it is not that syntax (or no real date). */
export function readExpiry(value: string, now: number): Date | undefined {
  const text = value.trim();
  if (!EXPIRY_SYNTAX.test(text)) return undefined;
  const seconds = parseDuration(text);
  const at = seconds !== undefined ? new Date(now + seconds * 1000) : new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
