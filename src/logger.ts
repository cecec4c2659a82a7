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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'latchkey' } }, destination as pino.DestinationStream | undefined);
}
