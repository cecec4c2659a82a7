// How much a secret someone else generated could be guessed: for imported
// client secrets and API keys, which Latchkey did not make and cannot vouch
// for. An estimate from the characters used (hex, digits, letters, base64…)
// and the length, lowered for repetitive strings: a random 32-character hex
// secret counts 128 bits, "tu-clave-secreta" about 75, "aaaa…" almost none.
// It cannot see a secret that is random-looking but was derived from
// something guessable; it does refuse the obviously weak.

/** Imported secrets need at least this (the and NIST's floor for a shared secret). */
export const MIN_IMPORTED_SECRET_BITS = 128;

export function estimateSecretBits(secret: string): number {
  if (!secret) return 0;
  const chars = [...secret];
  let alphabet: number;
  if (/^[0-9]+$/.test(secret)) alphabet = 10;
  else if (/^[0-9a-f]+$/.test(secret) || /^[0-9A-F]+$/.test(secret)) alphabet = 16;
  else {
    alphabet = (/[a-z]/.test(secret) ? 26 : 0) + (/[A-Z]/.test(secret) ? 26 : 0) + (/[0-9]/.test(secret) ? 10 : 0) + (/[^A-Za-z0-9]/.test(secret) ? 33 : 0);
  }
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

/** Why an imported secret is refused, or undefined when it is strong enough. */
export function weakSecretProblem(secret: string, what: string): string | undefined {
  const bits = Math.floor(estimateSecretBits(secret));
  if (bits >= MIN_IMPORTED_SECRET_BITS) return undefined;
  return `${what} looks like about ${bits} bits of randomness, under the ${MIN_IMPORTED_SECRET_BITS} needed (32 random hex or 22 base64 characters); import it without and rotate it instead`;
}
