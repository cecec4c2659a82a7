// How guessable a password a person chooses is, estimated offline by zxcvbn
// (tens of thousands of common passwords, words and names, keyboard walks,
// dates, repeats, l33t), with the person's own email and name counted as
// words an attacker knows. A score below 3 — under about 10^8 guesses — is
// refused, with zxcvbn's own reason. The length rules of passwords.ts apply
// first.
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { checkPasswordPolicy } from './passwords.ts';

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
    return new Factory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
    });
  })());

/** Why `password` may not be chosen (a sentence for the person), or undefined. */
export async function passwordProblem(password: string, known: { email?: string; name?: string | null } = {}): Promise<string | undefined> {
  const rule = checkPasswordPolicy(password);
  if (rule) return `The ${rule}.`;
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
  const why = result.feedback.warning ?? 'This password would be easy to guess.';
  const tip = result.feedback.suggestions[0] ?? 'Add another word or two.';
  return `${why} ${tip}`.replace(/\s+/g, ' ').trim();
}
