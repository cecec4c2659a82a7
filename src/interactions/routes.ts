import Router from '@koa/router';
import { formBody } from '../middleware/koa-body.ts';
import type { InteractionDeps } from './context.ts';
import { showInteraction, showSignIn } from './show.ts';
import { submitLogin } from './login.ts';
import { submitConsent } from './consent.ts';
import { abortInteraction } from './abort.ts';
import { submitCode } from './code.ts';
import { continueAfterEnrollment, submitEnrollment } from './enroll.ts';
import { submitPasskey } from './passkey.ts';
import { showSignUp, submitSignUp } from './signup.ts';
import { showForgotPassword, submitForgotPassword } from './forgot-password.ts';
import { resendVerification } from './verification-required.ts';
import { showVerifyEmail, submitVerifyEmail } from './verify-email.ts';
import { showResetPassword, submitResetPassword } from './reset-password.ts';
import { showInvitation, submitInvitation } from './invitation.ts';
import type { RateLimiters } from '../middleware/koa-rate-limit.ts';

export function interactionRoutes(deps: InteractionDeps, limits: RateLimiters): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const post = [formBody, deps.csrf.verify] as const;
  router.get('/', showInteraction(deps));
  router.get('/signin', showSignIn(deps));
  router.post('/login', limits.page('login'), ...post, submitLogin(deps));
  router.post('/passkey', limits.page('login'), ...post, submitPasskey(deps));
  router.post('/code', limits.page('code'), ...post, submitCode(deps));
  router.post('/enroll', limits.page('code'), ...post, submitEnrollment(deps));
  router.post('/continue', ...post, continueAfterEnrollment(deps));
  router.post('/confirm', ...post, submitConsent(deps));
  router.post('/abort', ...post, abortInteraction(deps));
  // Forms that send mail: each post counts per address (and each message per recipient).
  router.get('/signup', showSignUp(deps));
  router.post('/signup', limits.page('email'), ...post, submitSignUp(deps));
  router.get('/forgot', showForgotPassword(deps));
  router.post('/forgot', limits.page('email'), ...post, submitForgotPassword(deps));
  router.post('/verify/resend', limits.page('email'), ...post, resendVerification(deps));
  return router;
}

/**
 * Pages opened from a link in a mail: no sign-in in progress needed, any
 * browser. Posts that use a link (or set a password) count like sign-ins.
 */
export function linkRoutes(deps: InteractionDeps, limits: RateLimiters): Router {
  const router = new Router();
  const post = [limits.page('login'), formBody, deps.csrf.verify] as const;
  router.get('/verify-email', showVerifyEmail(deps));
  router.post('/verify-email', ...post, submitVerifyEmail(deps));
  router.get('/reset-password', showResetPassword(deps));
  router.post('/reset-password', ...post, submitResetPassword(deps));
  router.get('/invitation', showInvitation(deps));
  router.post('/invitation', ...post, submitInvitation(deps));
  return router;
}
