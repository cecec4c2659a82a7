// The provider instance that serves requests, rebuilt when the signing-key
// set changes (oidc-provider fixes its keystore at construction). All state
// lives in the database, so swapping instances loses nothing: requests in
// flight finish on the instance they started on.
import type { Context, Next } from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';
import type { JWK } from 'jose';
import { publicJwksOf } from '../services/secrets/signing-keys.ts';

export interface LiveProvider {
  readonly current: Provider;
  /** Kids of the keys that sign now. */
  readonly signingKids: string[];
  /** The published keys' public members (what /jwks serves): for verifying our own tokens in process. */
  readonly publicJwks: { keys: JWK[] };
  middleware(ctx: Context, next: Next): Promise<void>;
  /** Reloads keys; rebuilds the provider when they changed. True when rebuilt. */
  refresh(): Promise<boolean>;
}

const fingerprint = (keys: JWK[]) =>
  keys
    .map((k) => `${k.kid}:${k.key_ops ? 'verify' : 'sign'}`)
    .sort()
    .join(',');

export async function createLiveProvider(build: (jwks: { keys: JWK[] }) => Provider, loadKeys: () => Promise<{ keys: JWK[] }>): Promise<LiveProvider> {
  let current: Provider;
  let handler: (ctx: Context, next: Next) => Promise<void>;
  let seen = '';
  let signingKids: string[] = [];
  let publicJwks: { keys: JWK[] } = { keys: [] };

  async function refresh(): Promise<boolean> {
    const jwks = await loadKeys();
    const print = fingerprint(jwks.keys);
    if (print === seen) return false;
    const next = build(jwks);
    current = next;
    handler = mount(next) as unknown as typeof handler;
    seen = print;
    signingKids = jwks.keys.filter((k) => !k.key_ops).map((k) => k.kid!);
    publicJwks = publicJwksOf(jwks);
    return true;
  }

  await refresh();
  return {
    get current() {
      return current;
    },
    get signingKids() {
      return signingKids;
    },
    get publicJwks() {
      return publicJwks;
    },
    middleware: (ctx, next) => handler(ctx, next),
    refresh,
  };
}
