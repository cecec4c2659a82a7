// Dates and numbers in the reader's language (Intl). Times are shown in UTC
// and say so: the server does not know the reader's time zone, and pages
// work without scripts.
const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function formatter<T extends Intl.DateTimeFormat | Intl.NumberFormat>(key: string, make: () => T): T {
  let f = cache.get(key) as T | undefined;
  if (!f) {
    f = make();
    cache.set(key, f);
  }
  return f;
}

export function formatDate(tag: string, date: Date): string {
  return formatter(`d ${tag}`, () => new Intl.DateTimeFormat(tag, { dateStyle: 'medium', timeZone: 'UTC' })).format(date);
}

export function formatDateTime(tag: string, date: Date): string {
  return formatter(
    `dt ${tag}`,
    () =>
      new Intl.DateTimeFormat(tag, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZone: 'UTC',
        timeZoneName: 'short',
      }),
  ).format(date);
}

export function formatNumber(tag: string, n: number): string {
  return formatter(`n ${tag}`, () => new Intl.NumberFormat(tag)).format(n);
}
