// What every admin route needs: the administration service, who is calling
// (for the audit trail), and where from.
import type { Context } from 'koa';
import type { ApiCaller } from '../bearer-auth.ts';
import type { Actor } from '../../services/admin/audit.ts';
import type { Administration } from '../../services/admin/administration.ts';
import { requestMeta } from '../../middleware/koa-request-meta.ts';

export interface AdminRouteDeps {
  admin: Administration;
}

export const actorOf = (caller: ApiCaller): Actor => ({ kind: 'service_account', clientId: caller.clientId });
export const metaOf = (ctx: Context) => requestMeta(ctx);
