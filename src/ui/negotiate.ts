// Which of our languages a request gets. In order: a language the person
// picked with the switcher in this browser (their choice, now), the app's
// `ui_locales` (OpenID Connect Core §3.1.2.1), the language saved on the
// person's account, the browser's Accept-Language, then DEFAULT_LOCALE.

/** The best of `supported` for a list of wishes, most wanted first: exact tag, then same base language. */
export function matchLanguage(wanted: readonly string[], supported: readonly string[]): string | undefined {
  const lower = new Map(supported.map((s) => [s.toLowerCase(), s]));
  for (const w of wanted) {
    const tag = w.trim().toLowerCase();
    if (!tag || tag === '*') continue;
    const exact = lower.get(tag);
    if (exact) return exact;
    const base = tag.split('-')[0]!;
    const sameBase = lower.get(base) ?? supported.find((s) => s.toLowerCase().split('-')[0] === base);
    if (sameBase) return sameBase;
  }
  return undefined;
}

/** Accept-Language's tags, by preference (q=0 left out); at most 20 are read. */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag, ...rest] = part.trim().split(';');
      const q = rest.map((r) => /^\s*q=([0-9.]+)\s*$/.exec(r)?.[1]).find(Boolean);
      return { tag: tag!.trim(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((e) => e.tag && e.q > 0 && /^[A-Za-z*]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(e.tag))
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((e) => e.tag);
}

/** `ui_locales`: space-separated tags, most wanted first. */
export const parseUiLocales = (value: unknown): string[] => (typeof value === 'string' ? value.split(' ').filter(Boolean).slice(0, 20) : []);

export interface LanguageSources {
  chosen?: string;
  uiLocales?: readonly string[];
  saved?: string | null;
  acceptLanguage?: string;
}

export function chooseLanguage(sources: LanguageSources, supported: readonly string[], fallback: string): string {
  return (
    matchLanguage(sources.chosen ? [sources.chosen] : [], supported) ??
    matchLanguage(sources.uiLocales ?? [], supported) ??
    matchLanguage(sources.saved ? [sources.saved] : [], supported) ??
    matchLanguage(parseAcceptLanguage(sources.acceptLanguage), supported) ??
    fallback
  );
}
