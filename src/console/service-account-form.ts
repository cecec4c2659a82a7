// What the service-account forms send, read once: scopes and grants (new, edit),
// and a credential (new, add a key) — a key pair generated here, public keys
// pasted as a JWK or JWKS, or (new only) an HS256 shared secret; the service
// checks each (src/services/machines/service-accounts.ts), as for the CLI.
import type { Context } from 'koa';
import { DATE_WORDS, DURATION_WORDS, readExpiry } from '../config/durations.ts';
import { invalidInput } from '../errors.ts';
import { formValues } from '../middleware/koa-body.ts';
import { GENERATED_KEY_ALGS, JWT_BEARER, parseJwksText, type ServiceAccountView, type ServiceGrant } from '../services/machines/service-accounts.ts';

/** The grants a form offers, by the names the CLI and the admin API use. */
export const GRANTS: Record<string, ServiceGrant> = { 'jwt-bearer': JWT_BEARER, client_credentials: 'client_credentials' };

export type Credential = 'generate' | 'jwks' | 'shared-secret';

export interface AccessValues {
  scope: string;
  default_scope: string;
  grants: string[];
}

export interface KeyValues {
  credential: Credential;
  alg: string;
  jwks: string;
  key_expires: string;
}

const text = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)[name] ?? '');

export function accessValues(ctx: Context): AccessValues {
  return { scope: text(ctx, 'scope').trim(), default_scope: text(ctx, 'default_scope').trim(), grants: formValues(ctx, 'grants') };
}

export function accessValuesOf(a: ServiceAccountView): AccessValues {
  const names = Object.entries(GRANTS);
  return {
    scope: a.metadata.scope,
    default_scope: a.metadata.default_scope === a.metadata.scope ? '' : a.metadata.default_scope,
    grants: names.filter(([, g]) => a.metadata.grant_types.includes(g)).map(([n]) => n),
  };
}

export function keyValues(ctx: Context): KeyValues {
  const credential = text(ctx, 'credential');
  return {
    credential: credential === 'jwks' || credential === 'shared-secret' ? credential : 'generate',
    alg: text(ctx, 'alg'),
    jwks: text(ctx, 'jwks'),
    key_expires: text(ctx, 'key_expires').trim(),
  };
}

/** The checked grants; none checked is the service's default (both for a key, jwt-bearer for a shared secret). */
export function grantsOf(v: AccessValues): ServiceGrant[] | undefined {
  const grants = v.grants.map((g) => {
    const grant = GRANTS[g];
    if (!grant) throw invalidInput(`grant "${g}" is neither jwt-bearer nor client_credentials`);
    return grant;
  });
  return grants.length ? grants : undefined;
}

export function generatedAlg(v: KeyValues): (typeof GENERATED_KEY_ALGS)[number] {
  if (!(GENERATED_KEY_ALGS as readonly string[]).includes(v.alg)) throw invalidInput(`the key algorithm must be one of ${GENERATED_KEY_ALGS.join(', ')}`);
  return v.alg as (typeof GENERATED_KEY_ALGS)[number];
}

export const pastedKeys = (v: KeyValues) => parseJwksText(v.jwks, 'the public keys');

/** When the key stops working (the CLI's --key-expires syntax), or never when left empty. */
export function keyExpiry(v: KeyValues, now: number): Date | undefined {
  if (!v.key_expires) return undefined;
  const at = readExpiry(v.key_expires, now);
  if (!at) throw invalidInput(`the key's expiry "${v.key_expires}" is neither ${DURATION_WORDS} nor ${DATE_WORDS}`);
  if (at.getTime() <= now) throw invalidInput("the key's expiry must be in the future");
  return at;
}
