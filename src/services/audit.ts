// The audit trail: who did what, from where, when. Never a password, code or
// token; `detail` holds reason codes and identifiers only.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.ts';

export type AuditType =
  | 'login_succeeded'
  | 'login_failed'
  | 'reauth_failed'
  | 'account_locked'
  | 'mfa_enrolled'
  | 'mfa_removed'
  | 'mfa_reset'
  | 'recovery_code_used'
  | 'recovery_codes_regenerated'
  | 'consent_granted'
  | 'consent_revoked'
  | 'password_changed'
  | 'signed_out_everywhere'
  | 'user_disabled'
  | 'user_enabled'
  | 'signup_requested'
  | 'signup_completed'
  | 'email_verification_sent'
  | 'email_verified'
  | 'password_reset_requested'
  | 'password_reset'
  | 'invitation_created'
  | 'invitation_accepted'
  | 'passkey_added'
  | 'passkey_removed'
  | 'passkey_used'
  | 'role_added'
  | 'role_removed'
  | 'api_key_created'
  | 'api_key_revoked'
  | 'api_key_new_address';

/** Where a request came from, as the HTTP layer saw it. */
export interface RequestMeta {
  ip?: string;
  userAgent?: string;
  clientId?: string;
}

export interface AuditEntry {
  id: string;
  at: Date;
  type: string;
  userId: string | null;
  clientId: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
}

export function createAuditService(db: Db, onRecord?: (type: AuditType) => void) {
  return {
    async record(type: AuditType, meta: RequestMeta & { userId?: string }, detail?: Record<string, unknown>): Promise<void> {
      onRecord?.(type);
      await db.auditEvent.create({
        data: {
          id: randomUUID(),
          type,
          userId: meta.userId ?? null,
          clientId: meta.clientId ?? null,
          ip: meta.ip ?? null,
          userAgent: meta.userAgent?.slice(0, 512) ?? null,
          detail: detail ? JSON.stringify(detail) : null,
        },
      });
    },

    async list(filter: { userId?: string; since?: Date; limit?: number } = {}): Promise<AuditEntry[]> {
      const rows = await db.auditEvent.findMany({
        where: { ...(filter.userId ? { userId: filter.userId } : {}), ...(filter.since ? { at: { gte: filter.since } } : {}) },
        orderBy: { at: 'desc' },
        take: Math.min(filter.limit ?? 100, 10_000),
      });
      return rows.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
