// What a scope name may be, once for every way one arrives (a client's or a
// service account's registration, an API's definition, an API key, the JSON
// APIs' request bodies): RFC 6749 §3.3's scope-token, printable ASCII
// without the space, `"` and `\`.
import { invalidInput } from '../../errors.ts';

const TOKEN = '[\\x21\\x23-\\x5B\\x5D-\\x7E]+';
const SCOPE_TOKEN = new RegExp(`^${TOKEN}$`);

/** A scope value as the JSON APIs take it: scope tokens separated by single spaces. */
export const SCOPE_VALUE = new RegExp(`^${TOKEN}( ${TOKEN})*$`);
export const SCOPE_VALUE_MESSAGE = 'must be space-separated scope tokens';

/** The scope tokens of `scope` (any whitespace between them), each checked, duplicates dropped, joined by single spaces. */
export function checkScope(scope: string): string {
  const parts = scope.split(/\s+/).filter(Boolean);
  if (parts.length === 0) throw invalidInput('scope must not be empty');
  for (const p of parts) if (!SCOPE_TOKEN.test(p)) throw invalidInput(`scope value "${p}" is not a valid scope token`);
  return [...new Set(parts)].join(' ');
}
