// /admin/api/v1/audit-events: the audit trail, newest first.
import { ADMIN_READ_SCOPE } from '../../services/admin/administration.ts';
import { auditView } from '../views.ts';
import { defineRoute } from '../registry.ts';
import type { AdminRouteDeps } from './context.ts';
import { AuditEvent, auditExample } from './schemas.ts';
import { auditFilterOf, AuditQuery, pageOf, pageBody } from '../list-queries.ts';

export function auditRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/audit-events',
      operationId: 'listAuditEvents',
      summary: 'Audit events, newest first',
      tags: ['audit'],
      scope: ADMIN_READ_SCOPE,
      description:
        'Filter by user, client, type (or a family: `client.`) and time. Token issuance appears as `tokens_issued` rows counted per client, ' +
        'grant type and hour; refused token requests as `token_failed` (rate-bounded, the rest tallied in `token_failures_suppressed`).',
      query: AuditQuery,
      responses: {
        200: {
          description: 'a page of events',
          schema: pageOf(AuditEvent, 'AuditEventPage'),
          example: { items: [auditExample], next_cursor: 'WzE3NjM4OTkxMDAwMDAsIjBiNmEzYzllIl0' },
        },
      },
      async handle({ query }) {
        const page = await admin.audit.page({ ...auditFilterOf(query), limit: query.limit, cursor: query.cursor });
        return pageBody(page, auditView);
      },
    }),
  ];
}
