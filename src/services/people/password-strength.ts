// How guessable a password a person chooses is, estimated offline by zxcvbn
// (tens of thousands of common passwords, words and names, keyboard walks,
// dates, repeats, l33t), with the person's own email and name counted as
// words an attacker knows. A score below 3 — under about 10^8 guesses — is
// refused, with zxcvbn's own reason, as a message of the catalogue
// (password.warnings.*, password.suggestions.*): the page says it in the
// person's language. The length rules of passwords.ts apply first.
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { msg, type Message } from '../../ui/catalogue.ts';
import { MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH } from './passwords.ts';

export const MIN_PASSWORD_SCORE = 3;

let factory: Promise<ZxcvbnFactory> | undefined;
// The dictionaries cost 37 MB and ~0.1 s to load and build: on the first
// password chosen, not at every start (bench/README.md).
const estimator = () =>
  (factory ??= (async () => {
    const [{ ZxcvbnFactory: Factory }, common, en] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    // zxcvbn answers with its keys (each "translated" to itself), which the catalogue words.
    const keysOnly = (group: Record<string, string>) => Object.fromEntries(Object.keys(group).map((k) => [k, k]));
    return new Factory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: {
        warnings: keysOnly(en.translations.warnings),
        suggestions: keysOnly(en.translations.suggestions),
        timeEstimation: en.translations.timeEstimation,
      } as typeof en.translations,
    });
  })());

/** Why `password` may not be chosen (for the person, in their language), or undefined. */
export async function passwordProblem(password: string, known: { email?: string; name?: string | null } = {}): Promise<Message | undefined> {
  if (password.length < MIN_PASSWORD_LENGTH) return msg('password.tooShort', { min: MIN_PASSWORD_LENGTH });
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return msg('password.tooLong', { max: MAX_PASSWORD_BYTES });
  const local = known.email?.split('@')[0];
  const inputs = [
    known.email,
    local,
    local?.replace(/[._+-]/g, ''),
    ...(known.email?.split(/[@.+_-]/) ?? []),
    known.name,
    ...(known.name?.split(/\s+/) ?? []),
  ].filter((s): s is string => Boolean(s && s.length > 2));
  const result = (await estimator()).check(password, inputs);
  if (result.score >= MIN_PASSWORD_SCORE) return undefined;
  const warning = result.feedback.warning;
  const suggestion = result.feedback.suggestions[0];
  return msg('password.weakBecause', {
    why: msg(warning ? `password.warnings.${warning}` : 'password.weak'),
    tip: msg(suggestion ? `password.suggestions.${suggestion}` : 'password.tip'),
  });
}
