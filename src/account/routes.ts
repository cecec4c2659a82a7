// The account pages: an overview, then one page per section (profile,
// sign-in methods, apps, API keys, sessions), each with its own actions.
import Router from '@koa/router';
import { formBody } from '../middleware/koa-body.ts';
import type { RateLimiters } from '../middleware/koa-rate-limit.ts';
import { createApiKey, revokeApiKey, showApiKeys, showNewApiKey } from './api-keys.ts';
import { revokeApp, showApps } from './apps.ts';
import { requireSignedIn, type AccountDeps } from './context.ts';
import { showLanding, startSignUp } from './landing.ts';
import { showOverview } from './overview.ts';
import { changePassword, showPasswordForm } from './password.ts';
import { finishPasskeyRegistration, removePasskey, startPasskeyRegistration } from './passkeys.ts';
import { saveProfile, sendConfirmation, showProfile } from './profile.ts';
import { showReauth } from './reauth.ts';
import { confirmTotpSetup, regenerateRecoveryCodes, removeTotp, startTotpSetup } from './second-factor.ts';
import { endSession, showSessions, signOutEverywhere } from './sessions.ts';
import { showSignInMethods } from './sign-in-methods.ts';

export function accountRoutes(deps: AccountDeps, limits: RateLimiters): Router {
  const router = new Router({ prefix: '/account' });
  const signedIn = requireSignedIn(deps);
  const post = [limits.page('account'), signedIn, formBody, deps.csrf.verify] as const;
  // Actions that check a password or code spend the sign-in budget too.
  const checked = [limits.page('login'), ...post] as const;
  router.get('/', signedIn, showOverview(deps));
  router.get('/profile', signedIn, showProfile(deps));
  router.post('/profile', ...post, saveProfile(deps));
  router.post('/verify-email', limits.page('email'), ...post, sendConfirmation(deps));
  router.get('/sign-in-methods', signedIn, showSignInMethods(deps));
  router.get('/confirm', signedIn, showReauth(deps));
  router.get('/password', signedIn, showPasswordForm(deps));
  router.post('/password', ...checked, changePassword(deps));
  router.post('/totp/start', ...checked, startTotpSetup(deps));
  router.post('/totp', limits.page('code'), ...post, confirmTotpSetup(deps));
  router.post('/totp/remove', ...checked, removeTotp(deps));
  router.post('/recovery-codes', ...checked, regenerateRecoveryCodes(deps));
  router.post('/passkeys/start', ...checked, startPasskeyRegistration(deps));
  router.post('/passkeys', limits.page('code'), ...post, finishPasskeyRegistration(deps));
  router.post('/passkeys/:id/remove', ...checked, removePasskey(deps));
  router.get('/apps', signedIn, showApps(deps));
  router.post('/apps/:grantId/revoke', ...post, revokeApp(deps));
  router.get('/api-keys', signedIn, showApiKeys(deps));
  router.get('/api-keys/new', signedIn, showNewApiKey(deps));
  router.post('/api-keys', ...checked, createApiKey(deps, limits.person('apiKeys')));
  router.post('/api-keys/:id/revoke', ...post, revokeApiKey(deps));
  router.get('/sessions', signedIn, showSessions(deps));
  router.post('/sessions/:id/end', ...post, endSession(deps));
  router.post('/sign-out-everywhere', ...post, signOutEverywhere(deps));
  return router;
}

/** The server's own address and the way in for people without an app. */
export function landingRoutes(deps: AccountDeps): Router {
  const router = new Router();
  router.get('/', showLanding(deps));
  router.get('/signup', startSignUp(deps));
  return router;
}
