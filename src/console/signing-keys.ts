// GET  /admin/signing-keys — every signing key and its stage (next, active, retiring, retired)
// GET  /admin/signing-keys/rotate — what a rotation does, and the algorithm to rotate
// POST /admin/signing-keys/rotate — stages a new key: published at each node's next key
//      refresh, signing after KEY_ROTATION_DELAY (the administration service's rule,
//      as `keys rotate` and the admin API); audited `signing_key.rotated`
import type { Context } from 'koa';
import { invalidInput } from '../errors.ts';
import { ROTATABLE_ALGS, type SigningAlg } from '../services/secrets/signing-keys.ts';
import { actorOf, backWith, metaOf, renderConsole, type ConsoleDeps } from './context.ts';

export function showSigningKeys(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    renderConsole(deps, ctx, 'signing-keys', 'keys', { keys: await deps.admin.signingKeys.status() });
  };
}

export function confirmRotateKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const active = (await deps.admin.signingKeys.status()).filter((k) => k.state === 'active').map((k) => k.alg);
    renderConsole(deps, ctx, 'signing-key-rotate', 'keys', {
      algs: ROTATABLE_ALGS.map((alg, i) => ({ value: alg, checked: active.length ? alg === active[0] : i === 0 })),
      delayMinutes: Math.max(1, Math.round(deps.keyRotationDelay / 60)),
    });
  };
}

export function rotateSigningKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const alg = String((ctx.request.body as Record<string, unknown>).alg ?? '');
    if (!(ROTATABLE_ALGS as readonly string[]).includes(alg)) throw invalidInput(`alg must be one of ${ROTATABLE_ALGS.join(', ')}`);
    await deps.admin.signingKeys.rotate(actorOf(ctx), alg as SigningAlg, metaOf(ctx));
    backWith(ctx, '/admin/signing-keys', 'signing-key-rotated');
  };
}
