// WCAG 2.x contrast: relative luminance of sRGB colours and the ratio
// between two of them (1:1 to 21:1). AA asks 4.5:1 for text, 3:1 for large
// text and for the parts of controls a person must see (borders, focus rings).
export const AA_TEXT = 4.5;
export const AA_NON_TEXT = 3;

export type Rgb = readonly [number, number, number];

/** `#rgb` or `#rrggbb` (case-insensitive), else undefined. */
export function parseHexColor(value: string): Rgb | undefined {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
  if (!m) return undefined;
  const hex = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c).join('') : m[1]!;
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;
}

export function toHex(rgb: Rgb): string {
  return `#${rgb
    .map((c) =>
      Math.round(Math.min(255, Math.max(0, c)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** `a` moved `t` (0–1) of the way towards `b`. */
export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((i) => a[i]! + (b[i]! - a[i]!) * t) as unknown as Rgb;
}

/**
 * The least change of `color` towards `towards` (white or black) that has
 * at least `ratio` against every colour of `against`; `color` itself when it
 * already has.
 */
export function nearestPassing(color: Rgb, towards: Rgb, against: readonly Rgb[], ratio = AA_TEXT): Rgb {
  const ok = (c: Rgb) => against.every((bg) => contrast(c, bg) >= ratio);
  if (ok(color)) return color;
  for (let step = 1; step <= 100; step++) {
    const candidate = mix(color, towards, step / 100).map(Math.round) as unknown as Rgb;
    if (ok(candidate)) return candidate;
  }
  return towards;
}

export const ratioText = (r: number) => `${(Math.floor(r * 100) / 100).toFixed(2)}:1`;
