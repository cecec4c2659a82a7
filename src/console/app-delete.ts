// GET  /admin/apps/:id/delete — the app named, what deleting it ends, and the button
// POST /admin/apps/:id/delete — deletes it (its grants and tokens go with it); audited `client.deleted`
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backWith, metaOf, type ConsoleDeps } from './context.ts';
import { appPath } from './app.ts';

export function confirmDeleteApp(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const app = await deps.admin.clients.get(String(ctx.params.id));
    renderConfirmation(deps, ctx, {
      section: 'apps',
      heading: msg('console.deleteApp.heading', { app: app.name }),
      losses: [msg('console.deleteApp.signIn', { app: app.name, id: app.clientId }), msg('console.deleteApp.tokens'), msg('console.deleteApp.final')],
      button: msg('console.deleteApp.button', { app: app.name }),
      action: `${appPath(app.clientId)}/delete`,
      back: appPath(app.clientId),
    });
  };
}

export function deleteApp(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    await deps.admin.clients.delete(actorOf(ctx), String(ctx.params.id), undefined, metaOf(ctx));
    backWith(ctx, '/admin/apps', 'app-deleted');
  };
}
