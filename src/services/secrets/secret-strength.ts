// How much a secret someone else generated could be guessed: for imported
// client secrets and API keys, which Latchkey did not make and cannot vouch
// for. An estimate from the characters used (hex, digits, letters, base64…)
// and the length, lowered for repetitive strings: a random 32-character hex
// secret counts 128 bits, "tu-clave-secreta-1234" about 60 (words between
// separators count as words), "aaaa…" almost none.
// It cannot see a secret that is random-looking but was derived from
// something guessable; it does refuse the obviously weak.

/** Imported secrets need at least this (the and NIST's floor for a shared secret). */
export const MIN_IMPORTED_SECRET_BITS = 128;

function alphabetOf(text: string): number {
  if (/^[0-9]+$/.test(text)) return 10;
  if (/^[0-9a-f]+$/.test(text) || /^[0-9A-F]+$/.test(text)) return 16;
  return (/[a-z]/.test(text) ? 26 : 0) + (/[A-Z]/.test(text) ? 26 : 0) + (/[0-9]/.test(text) ? 10 : 0) + (/[^A-Za-z0-9]/.test(text) ? 33 : 0);
}

/** Bits of a string drawn from `alphabet`, lowered for few distinct characters and for repeats. */
function drawnBits(text: string, alphabet: number): number {
  const chars = [...text];
  // A string that keeps reusing a few characters is not drawn from its whole alphabet.
  const distinct = new Set(chars).size;
  const expected = Math.min(alphabet, chars.length);
  const effective = distinct < expected / 2 ? Math.max(distinct, 1) : alphabet;
  // A short run repeated ("0123456789" four times, "abcabc…") is worth its run only.
  let period = chars.length;
  for (let p = 1; p <= chars.length / 2; p++) {
    if (chars.every((c, i) => i < p || c === chars[i - p])) {
      period = p;
      break;
    }
  }
  return period * Math.log2(Math.max(effective, 1));
}

/** What guessing one word of a passphrase-like secret takes: a large dictionary's worth. */
const WORD_BITS = 16;

export function estimateSecretBits(secret: string): number {
  if (!secret) return 0;
  const alphabet = alphabetOf(secret);
  // Words between separators ("tu-clave-secreta-1234", "my_api_secret") are
  // guessed as words, not letter by letter; a random base64url string seldom
  // has a whole segment of plain letters, and loses little when it does.
  const segments = secret.split(/[-_.\s:]+/).filter(Boolean);
  if (segments.length < 2) return drawnBits(secret, alphabet);
  // Mostly words, or a random string that happens to contain separators (base64url's - and _)?
  const isWord = (segment: string) => segment.length >= 3 && /^[A-Za-z][a-z]+$|^[A-Z]+$/.test(segment);
  const wordChars = segments.filter(isWord).reduce((n, w) => n + w.length, 0);
  if (wordChars * 2 < segments.join('').length) return drawnBits(secret, alphabet);
  const separators = secret.length - segments.join('').length;
  let bits = separators * 2;
  for (const segment of segments) {
    if (isWord(segment)) bits += Math.min(WORD_BITS, drawnBits(segment, alphabet));
    else if (/^[0-9]+$/.test(segment)) bits += drawnBits(segment, 10);
    else bits += drawnBits(segment, alphabet);
  }
  return Math.min(bits, drawnBits(secret, alphabet));
}

/** Why an imported secret is refused, or undefined when it is strong enough. */
export function weakSecretProblem(secret: string, what: string): string | undefined {
  const bits = Math.floor(estimateSecretBits(secret));
  if (bits >= MIN_IMPORTED_SECRET_BITS) return undefined;
  return (
    `${what} looks like about ${bits} bits of randomness, under the ${MIN_IMPORTED_SECRET_BITS} needed (32 random hex or 24 base64 characters); ` +
    `import it without and rotate it instead`
  );
}
