// What every interaction route is given.
import type { Csrf } from '../middleware/koa-csrf.ts';
import type { Render } from '../middleware/koa-render.ts';
import type { InteractionApi } from '../oidc/interactions.ts';
import type { UserService } from '../services/users.ts';
import type { Logger } from '../logger.ts';

export interface InteractionDeps {
  interactions: InteractionApi;
  users: UserService;
  csrf: Csrf;
  render: Render;
  log: Logger;
}
