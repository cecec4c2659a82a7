// Structured JSON logs. Anything that could carry a credential is redacted
// by key, as a second line of defence behind not logging it at all.
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export const REDACT = [
  'password',
  '*.password',
  'client_secret',
  '*.client_secret',
  'secret',
  '*.secret',
  'code',
  '*.code',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'id_token',
  '*.id_token',
  'assertion',
  '*.assertion',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
];

const CENSOR = '[redacted]';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: CENSOR }, base: { service: 'latchkey' } }, destination as pino.DestinationStream | undefined);
}

/**
 * The same logger for lines of flat values only (a string, a number), such as
 * the line of every request: a nested path (`*.token`) can match nothing in
 * them, yet the redaction walks every key of the line for each of those
 * paths, 15 of the 23 µs a line cost here (bench/README.md, "Stop 47"). The
 * top-level paths stay, for a field that one day carries a credential.
 */
export function flatLineLogger(log: Logger): Logger {
  return log.child({}, { redact: { paths: REDACT.filter((path) => !path.includes('.')), censor: CENSOR } });
}
