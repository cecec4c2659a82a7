import Router from '@koa/router';
import { formBody } from '../middleware/koa-body.ts';
import type { InteractionDeps } from './context.ts';
import { showInteraction } from './show.ts';
import { submitLogin } from './login.ts';
import { submitConsent } from './consent.ts';
import { abortInteraction } from './abort.ts';

export function interactionRoutes(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const post = [formBody, deps.csrf.verify] as const;
  router.get('/', showInteraction(deps));
  router.post('/login', ...post, submitLogin(deps));
  router.post('/confirm', ...post, submitConsent(deps));
  router.post('/abort', ...post, abortInteraction(deps));
  return router;
}
