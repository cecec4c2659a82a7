// GET  /admin/people/:id/apps/:grant/revoke — what revoking an app's authorization ends
// POST /admin/people/:id/apps/:grant/revoke — revokes it: the app's tokens stop
//      working and it must ask again (the service behind the person's own
//      "Apps" page and the admin API's grants); audited `user.app_revoked`
import type { Context } from 'koa';
import { notFound } from '../errors.ts';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backWith, metaOf, type ConsoleDeps } from './context.ts';

const personPath = (id: string) => `/admin/people/${encodeURIComponent(id)}`;

export function confirmRevokeApp(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    const grantId = String(ctx.params.grant);
    const person = await deps.admin.users.get(id);
    const app = (await deps.admin.users.listApps(id)).find((a) => a.grantId === grantId);
    if (!app) throw notFound(`authorization ${grantId} of user ${id}`);
    renderConfirmation(deps, ctx, {
      section: 'people',
      heading: msg('console.revokeApp.heading', { app: app.clientName, email: person.email }),
      losses: [msg('console.revokeApp.tokens'), msg('console.revokeApp.again')],
      button: msg('console.revokeApp.button', { app: app.clientName }),
      action: `${personPath(id)}/apps/${encodeURIComponent(grantId)}/revoke`,
      back: personPath(id),
    });
  };
}

export function revokeApp(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const id = String(ctx.params.id);
    await deps.admin.users.revokeApp(actorOf(ctx), id, String(ctx.params.grant), metaOf(ctx));
    backWith(ctx, personPath(id), 'app-revoked');
  };
}
