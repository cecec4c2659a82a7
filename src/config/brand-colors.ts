// BRAND_COLOR and BRAND_COLOR_DARK, checked at start-up against the
// backgrounds the built-in stylesheet puts them on (views/assets/style.css:
// keep the two in step). The accent colours links and focus rings on those
// backgrounds and is the background of buttons whose labels are white (light
// scheme) or near-black (dark scheme), so it needs 4.5:1 (WCAG AA, text)
// against each. One colour cannot have 4.5:1 against both white and a dark
// background, so the dark scheme has its own accent: BRAND_COLOR_DARK, or
// BRAND_COLOR lightened until it passes there.
import { AA_TEXT, contrast, nearestPassing, parseHexColor, ratioText, toHex, type Rgb } from './contrast.ts';

export const LIGHT_BACKGROUNDS = { page: '#f3f5f9', card: '#ffffff' } as const;
export const DARK_BACKGROUNDS = { page: '#0e1116', card: '#161b22' } as const;
/** Button labels on the dark scheme's accent. */
export const DARK_INK = '#0e1116';

export interface SchemeAccent {
  accent: string;
  /** The colour of text on an accent-coloured button. */
  accentInk: string;
}

export interface BrandColors {
  light: SchemeAccent;
  dark: SchemeAccent;
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const rgb = (hex: string) => parseHexColor(hex)!;

/** What fails: the first background the colour does not reach 4.5:1 against. */
function shortfall(color: Rgb, backgrounds: Record<string, string>): { name: string; hex: string; ratio: number } | undefined {
  for (const [name, hex] of Object.entries(backgrounds)) {
    const ratio = contrast(color, rgb(hex));
    if (ratio < AA_TEXT) return { name, hex, ratio };
  }
  return undefined;
}

export function checkBrandColors(
  lightInput: string,
  darkInput: string | undefined,
): { ok: true; colors: BrandColors; problems?: undefined } | { ok: false; problems: string[]; colors?: undefined } {
  const problems: string[] = [];
  const light = parseHexColor(lightInput);
  if (!light) problems.push(`BRAND_COLOR: "${lightInput}" is not a colour; write it as #rrggbb (e.g. #2456d3)`);
  const dark = darkInput === undefined ? undefined : parseHexColor(darkInput);
  if (darkInput !== undefined && !dark) problems.push(`BRAND_COLOR_DARK: "${darkInput}" is not a colour; write it as #rrggbb (e.g. #8fb0ff)`);
  const lightBgs = Object.values(LIGHT_BACKGROUNDS).map(rgb);
  const darkBgs = Object.values(DARK_BACKGROUNDS).map(rgb);
  if (light) {
    const fail = shortfall(light, { white: LIGHT_BACKGROUNDS.card, 'the light page background': LIGHT_BACKGROUNDS.page });
    if (fail) {
      problems.push(
        `BRAND_COLOR: ${lightInput} has ${ratioText(fail.ratio)} against ${fail.name} (${fail.hex}); ` +
          `WCAG AA needs ${AA_TEXT}:1 for the links and button labels it colours. ` +
          `The nearest colour that passes is ${toHex(nearestPassing(light, BLACK, lightBgs))}`,
      );
    }
  }
  if (dark) {
    const fail = shortfall(dark, { 'the dark card background': DARK_BACKGROUNDS.card, 'the dark page background': DARK_BACKGROUNDS.page });
    if (fail) {
      problems.push(
        `BRAND_COLOR_DARK: ${darkInput} has ${ratioText(fail.ratio)} against ${fail.name} (${fail.hex}); WCAG AA needs ${AA_TEXT}:1. ` +
          `The nearest colour that passes is ${toHex(nearestPassing(dark, WHITE, darkBgs))}`,
      );
    }
  }
  if (problems.length || !light) return { ok: false, problems };
  // A little above the minimum when derived: the derived colour is also the focus ring's.
  const darkAccent = dark ?? nearestPassing(light, WHITE, darkBgs, AA_TEXT + 0.5);
  return {
    ok: true,
    colors: {
      light: { accent: toHex(light), accentInk: '#ffffff' },
      dark: { accent: toHex(darkAccent), accentInk: DARK_INK },
    },
  };
}
