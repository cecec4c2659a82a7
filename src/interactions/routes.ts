import Router from '@koa/router';
import { formBody } from '../middleware/koa-body.ts';
import type { InteractionDeps } from './context.ts';
import { showInteraction } from './show.ts';
import { submitLogin } from './login.ts';
import { submitConsent } from './consent.ts';
import { abortInteraction } from './abort.ts';
import { submitCode } from './code.ts';
import { continueAfterEnrollment, submitEnrollment } from './enroll.ts';
import type { RateLimiters } from '../middleware/koa-rate-limit.ts';

export function interactionRoutes(deps: InteractionDeps, limits: RateLimiters): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const post = [formBody, deps.csrf.verify] as const;
  router.get('/', showInteraction(deps));
  router.post('/login', limits.page('login'), ...post, submitLogin(deps));
  router.post('/code', limits.page('code'), ...post, submitCode(deps));
  router.post('/enroll', limits.page('code'), ...post, submitEnrollment(deps));
  router.post('/continue', ...post, continueAfterEnrollment(deps));
  router.post('/confirm', ...post, submitConsent(deps));
  router.post('/abort', ...post, abortInteraction(deps));
  return router;
}
