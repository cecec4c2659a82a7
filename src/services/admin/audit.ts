// The audit trail: who did what, from where, when. Never a password, code or
// token; `detail` holds reason codes and identifiers only. Administrative
// changes also name their actor and target, and what changed.
import { randomUUID } from 'node:crypto';
import type { Db, DbKind } from '../../db/database.ts';
import { signInsPerHour } from '../../db/sign-in-activity.ts';
import { keyset, toPage, type Page, type PageRequest } from './pagination.ts';

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
  | 'session_ended'
  | 'profile_changed'
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
  | 'api_key_new_address'
  | 'password_rehashed'
  | 'backchannel_logout_failed'
  | 'client.registered'
  | 'client.registration_updated'
  | 'client.registration_deleted'
  | TokenAuditType
  | AdminAction;

/** Written by the token-usage recorder (src/services/admin/token-usage.ts). */
export type TokenAuditType = 'tokens_issued' | 'token_failed' | 'token_failures_suppressed' | 'api_key_new_addresses';

/** Administrative changes, through the admin API or the CLI (src/services/admin/administration.ts). */
export type AdminAction =
  | 'admin.bootstrapped'
  | 'client.created'
  | 'client.updated'
  | 'client.deleted'
  | 'client.secret_rotated'
  | 'client.registration_token_created'
  | 'user.created'
  | 'user.imported'
  | 'users.imported'
  | 'client.imported'
  | 'clients.imported'
  | 'api_keys.imported'
  | 'service_account.secret_rotated'
  | 'service_account.deleted'
  | 'role.created'
  | 'role.updated'
  | 'role.deleted'
  | 'config.applied'
  | 'user.updated'
  | 'user.password_set'
  | 'user.mfa_reset'
  | 'user.password_link_created'
  | 'user.sessions_ended'
  | 'user.app_revoked'
  | 'role_added'
  | 'role_removed'
  | 'service_account.created'
  | 'service_account.updated'
  | 'service_account.key_added'
  | 'service_account.key_removed'
  | 'service_account.key_expired'
  | 'resource.created'
  | 'resource.updated'
  | 'resource.deleted'
  | 'signing_key.rotated'
  | 'key_encryption_key.rotated';

/** Who made an administrative change: an admin service account (admin API), a shell user (CLI) or an administrator (console). */
export type Actor = { kind: 'service_account'; clientId: string } | { kind: 'cli'; osUser: string } | { kind: 'person'; userId: string };

export const actorName = (actor: Actor) =>
  actor.kind === 'cli' ? `cli:${actor.osUser}` : actor.kind === 'person' ? `person:${actor.userId}` : `service_account:${actor.clientId}`;

/** Where a request came from, as the HTTP layer saw it. */
export interface RequestMeta {
  ip?: string;
  userAgent?: string;
  clientId?: string;
  /** Set when an administrator made the change (src/services/admin/administration.ts). */
  actor?: Actor;
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
  actor: string | null;
  target: string | null;
  /** For counted rows (tokens issued in an hour, suppressed failures): how many. */
  count: number | null;
}

export interface AuditFilter {
  userId?: string;
  clientId?: string;
  /** One type, or a prefix ending in '.' ("client.") for a family of admin actions. */
  type?: string;
  since?: Date;
  until?: Date;
}

const toEntry = (r: Omit<AuditEntry, 'detail'> & { detail: string | null; bucket?: string | null }): AuditEntry => {
  const { bucket: _bucket, ...rest } = r;
  return { ...rest, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null };
};

function whereOf(filter: AuditFilter) {
  return {
    ...(filter.userId ? { userId: filter.userId } : {}),
    ...(filter.clientId ? { clientId: filter.clientId } : {}),
    ...(filter.type ? { type: filter.type.endsWith('.') ? { startsWith: filter.type } : filter.type } : {}),
    ...(filter.since || filter.until ? { at: { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) } } : {}),
  };
}

/** An audit row, for a caller that writes it in its own transaction (with the change it records). */
export function auditRow(type: AuditType, meta: RequestMeta & { userId?: string }, detail?: Record<string, unknown>) {
  return {
    id: randomUUID(),
    type,
    userId: meta.userId ?? null,
    clientId: meta.clientId ?? null,
    ip: meta.ip ?? null,
    userAgent: meta.userAgent?.slice(0, 512) ?? null,
    detail: detail ? JSON.stringify(detail) : null,
    actor: meta.actor ? actorName(meta.actor) : null,
  };
}

/** An administrative change's audit row, for a caller that writes it in its own transaction. */
export function changeRow(
  actor: Actor,
  action: AdminAction,
  target: { kind: string; id: string; userId?: string; clientId?: string },
  changes?: Record<string, unknown>,
  meta: RequestMeta = {},
) {
  return {
    id: randomUUID(),
    type: action,
    actor: actorName(actor),
    target: `${target.kind}:${target.id}`,
    userId: target.userId ?? null,
    clientId: target.clientId ?? null,
    ip: meta.ip ?? null,
    userAgent: meta.userAgent?.slice(0, 512) ?? null,
    detail: changes && Object.keys(changes).length ? JSON.stringify(changes) : null,
  };
}

/** Sign-ins and failures per hour and per day, oldest first, each span ending with the current hour or day (UTC). */
export interface SignInActivity {
  hourly: { at: Date; signIns: number; failures: number }[];
  daily: { at: Date; signIns: number; failures: number }[];
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

export function createAuditService(db: Db, onRecord: ((type: AuditType) => void) | undefined, kind: DbKind) {
  return {
    /**
     * The admin console's charts: sign-ins (`login_succeeded`) and failed
     * sign-ins (`login_failed`) over the last `hours` hours and `days` days,
     * from one grouped query (src/db/sign-in-activity.ts). Days are UTC days.
     */
    async signInActivity(now: number, hours = 24, days = 30): Promise<SignInActivity> {
      const thisHour = Math.floor(now / HOUR) * HOUR;
      const today = Math.floor(now / DAY) * DAY;
      const since = Math.min(thisHour - (hours - 1) * HOUR, today - (days - 1) * DAY);
      const perHour = new Map<string, { signIns: number; failures: number }>();
      const perDay = new Map<string, { signIns: number; failures: number }>();
      for (const row of await signInsPerHour(db, kind, new Date(since))) {
        for (const [map, key] of [
          [perHour, row.hour],
          [perDay, row.hour.slice(0, 10)],
        ] as const) {
          const slot = map.get(key) ?? { signIns: 0, failures: 0 };
          if (row.type === 'login_succeeded') slot.signIns += row.count;
          else slot.failures += row.count;
          map.set(key, slot);
        }
      }
      const series = (count: number, last: number, step: number, keyOf: (iso: string) => string, map: typeof perHour) =>
        Array.from({ length: count }, (_, i) => {
          const at = new Date(last - (count - 1 - i) * step);
          return { at, ...(map.get(keyOf(at.toISOString())) ?? { signIns: 0, failures: 0 }) };
        });
      return {
        hourly: series(hours, thisHour, HOUR, (iso) => iso.slice(0, 13), perHour),
        daily: series(days, today, DAY, (iso) => iso.slice(0, 10), perDay),
      };
    },

    /** Tells the metrics of a row written by someone else's transaction (auditRow, changeRow). */
    counted(type: AuditType): void {
      onRecord?.(type);
    },

    async record(type: AuditType, meta: RequestMeta & { userId?: string }, detail?: Record<string, unknown>): Promise<void> {
      onRecord?.(type);
      await db.auditEvent.create({ data: auditRow(type, meta, detail) });
    },

    /**
     * An administrative change: who, what, on what, and the changed fields
     * (callers pass names and non-secret values only).
     */
    async recordChange(
      actor: Actor,
      action: AdminAction,
      target: { kind: string; id: string; userId?: string; clientId?: string },
      changes?: Record<string, unknown>,
      meta: RequestMeta = {},
    ): Promise<void> {
      onRecord?.(action);
      await db.auditEvent.create({ data: changeRow(actor, action, target, changes, meta) });
    },

    /** Newest first. */
    async list(filter: AuditFilter & { limit?: number } = {}): Promise<AuditEntry[]> {
      const rows = await db.auditEvent.findMany({
        where: whereOf(filter),
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
        take: Math.min(filter.limit ?? 100, 10_000),
      });
      return rows.map(toEntry);
    },

    /** Newest first, a page at a time. */
    async page(filter: AuditFilter & PageRequest = {}): Promise<Page<AuditEntry>> {
      const k = keyset('at', filter, 'desc');
      const rows = await db.auditEvent.findMany({ where: { AND: [whereOf(filter), k.where] }, orderBy: k.orderBy, take: k.take });
      return toPage(rows, k.take, (r) => ({ at: r.at, id: r.id }), toEntry);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
