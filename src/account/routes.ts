import Router from '@koa/router';
import { formBody } from '../middleware/koa-body.ts';
import type { RateLimiters } from '../middleware/koa-rate-limit.ts';
import { revokeApp, signOutEverywhere } from './apps.ts';
import { requireSignedIn, type AccountDeps } from './context.ts';
import { changePassword } from './password.ts';
import { confirmTotpSetup, regenerateRecoveryCodes, removeTotp, startTotpSetup } from './second-factor.ts';
import { showAccount } from './show.ts';
import { createApiKey, revokeApiKey } from './api-keys.ts';

export function accountRoutes(deps: AccountDeps, limits: RateLimiters): Router {
  const router = new Router({ prefix: '/account' });
  const signedIn = requireSignedIn(deps);
  const post = [limits.page('account'), signedIn, formBody, deps.csrf.verify] as const;
  // Actions that check a password or code spend the sign-in budget too.
  const checked = [limits.page('login'), ...post] as const;
  router.get('/', signedIn, showAccount(deps));
  router.post('/password', ...checked, changePassword(deps));
  router.post('/totp/start', ...checked, startTotpSetup(deps));
  router.post('/totp', limits.page('code'), ...post, confirmTotpSetup(deps));
  router.post('/totp/remove', ...checked, removeTotp(deps));
  router.post('/recovery-codes', ...checked, regenerateRecoveryCodes(deps));
  router.post('/apps/:grantId/revoke', ...post, revokeApp(deps));
  router.post('/api-keys', ...post, createApiKey(deps));
  router.post('/api-keys/:id/revoke', ...post, revokeApiKey(deps));
  router.post('/sign-out-everywhere', ...post, signOutEverywhere(deps));
  return router;
}
