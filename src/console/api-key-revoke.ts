// GET  /admin/api-keys/:id/revoke — the key named, what revoking it stops, and the button
// POST /admin/api-keys/:id/revoke — revokes it at once on every node (introspection
//      answers inactive); audited `api_key_revoked` with the administrator as actor
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { renderConfirmation } from './confirm.ts';
import { actorOf, backPath, backWith, metaOf, type ConsoleDeps } from './context.ts';

const ownerPath = (owner: { kind: string; id: string }) =>
  owner.kind === 'person' ? `/admin/people/${encodeURIComponent(owner.id)}` : `/admin/api-keys?${new URLSearchParams({ owner_id: owner.id })}`;

export function confirmRevokeKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const key = await deps.admin.apiKeys.get(String(ctx.params.id));
    renderConfirmation(deps, ctx, {
      section: 'apiKeys',
      heading: msg('console.revokeKey.heading', { name: key.name }),
      losses: [msg('console.revokeKey.display', { display: key.display }), msg('console.revokeKey.stops')],
      button: msg('console.revokeKey.button'),
      action: `/admin/api-keys/${encodeURIComponent(key.id)}/revoke`,
      back: ownerPath(key.owner),
    });
  };
}

export function revokeKey(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const key = await deps.admin.apiKeys.revoke(actorOf(ctx), String(ctx.params.id), metaOf(ctx));
    backWith(ctx, backPath(ctx, ownerPath(key.owner)), 'key-revoked');
  };
}
