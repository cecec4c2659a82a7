// `user import`: people from another product, one JSON object a line, with
// the password hashes and authenticator secrets they already have, so that
// nobody resets a password or re-enrols an app.
//
// Each line is checked on its own and either taken whole or reported with
// its number and what to fix; nothing of a bad line is written, and the
// lines after it are read on. Lines are written a batch at a time, each
// batch in one transaction (a batch a concurrent writer spoils is retried
// line by line), so memory stays flat and a crash loses no half-written
// person. No password is hashed here: imported hashes are stored as they
// are, checked at sign-in, and replaced by Latchkey's bcrypt then
// (src/services/people/sign-in.ts). Authenticator secrets are sealed like
// enrolled ones; recovery codes are stored as keyed hashes only. Nothing
// secret reaches the report, a log line or the audit trail.
import { randomUUID } from 'node:crypto';
import { Secret } from 'otpauth';
import * as z from 'zod';
import type { Db, DbKind } from '../../db/database.ts';
import { bulkInsert } from '../../db/bulk-insert.ts';
import { changeRow, type Actor, type RequestMeta } from '../admin/audit.ts';
import { batches, checkedLine, newReport, reportFailure, type ImportReport, type JsonLine, type OnConflict } from '../admin/json-lines.ts';
import type { ChangeTracker } from '../machines/config-cache.ts';
import { DEFAULT_TOTP, IMPORTED_CODE_LENGTH, normalizeRecoveryCode, type SecondFactorService, type TotpParams } from '../factors/second-factor.ts';
import { HashFormatError, NO_PASSWORD, parsePasswordHash } from './password-hashes.ts';
import { checkRole, isEmailAddress, nameProblem, normalizeEmail } from './users.ts';

/** Lines written per transaction. */
export const IMPORT_BATCH = 500;
const MAX_RECOVERY_CODES = 50;
/** A kept user id: what other systems store as the person's `sub`. */
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@|+-]{0,127}$/;
/** Ids of Latchkey's own machines and keys: a person's `sub` must never be mistaken for one. */
const RESERVED_ID = /^(sa_|key_|latchkey-)/i;

export const ImportedUser = z
  .strictObject({
    email: z.string().max(254),
    id: z.string().optional(),
    name: z.string().nullable().optional(),
    email_verified: z.boolean().optional(),
    disabled: z.boolean().optional(),
    roles: z.array(z.string()).max(100).optional(),
    created_at: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    password_hash: z.string().max(1024).nullable().optional(),
    totp: z
      .strictObject({
        secret: z.string().max(256),
        digits: z.union([z.literal(6), z.literal(7), z.literal(8)]).optional(),
        period: z.number().int().min(15).max(120).optional(),
        algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']).optional(),
      })
      .nullable()
      .optional(),
    recovery_codes: z.array(z.string().max(256)).max(MAX_RECOVERY_CODES).optional(),
  })
  .meta({
    id: 'ImportedUser',
    description:
      'One person a line (application/x-ndjson). `password_hash`: bcrypt ($2a$/$2b$/$2y$), argon2id/argon2i (PHC), scrypt (PHC), ' +
      'PBKDF2-SHA256/512 (PHC), Django or Werkzeug formats. ' +
      '`totp.secret` base32. `recovery_codes`: the plain codes, stored hashed.',
  });
export type ImportedUserLine = z.output<typeof ImportedUser>;

/** A line made ready to write: everything checked, secrets already sealed or hashed. */
interface Prepared {
  line: number;
  id?: string;
  email: string;
  name?: string | null;
  emailVerified?: boolean;
  disabled?: boolean;
  roles?: string[];
  createdAt?: Date;
  password?: { hash: string; scheme: string | null };
  totp?: { secret: string; params: TotpParams } | null;
  recoveryCodes?: string[];
}

class LineProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function base32Secret(input: string): string {
  const secret = input.replace(/[\s=-]/g, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(secret)) throw new LineProblem('totp.secret', 'is not base32 (letters A–Z and digits 2–7)');
  let bytes: number;
  try {
    bytes = Secret.fromBase32(secret).bytes.length;
  } catch {
    throw new LineProblem('totp.secret', 'is not base32');
  }
  // RFC 4226 asks for 160 bits and accepts 128; 80 is what many apps were given.
  if (bytes < 10) throw new LineProblem('totp.secret', `is ${bytes * 8} bits; at least 80 are needed`);
  return secret;
}

/** Checks one line; throws a LineProblem naming the field. */
function prepare(value: ImportedUserLine, line: number): Prepared {
  const email = normalizeEmail(value.email);
  if (!isEmailAddress(email)) throw new LineProblem('email', 'is not an email address');
  if (value.id !== undefined) {
    if (!USER_ID.test(value.id)) throw new LineProblem('id', 'must be 1–128 letters, digits or . _ : @ | + - (starting with a letter or digit)');
    if (RESERVED_ID.test(value.id)) throw new LineProblem('id', 'must not start with sa_, key_ or latchkey- (Latchkey names its machines and keys so)');
  }
  const name = value.name === undefined || value.name === null ? value.name : value.name.trim() || null;
  const badName = name ? nameProblem(name) : undefined;
  if (badName) throw new LineProblem('name', badName);
  let roles: string[] | undefined;
  if (value.roles) {
    try {
      roles = [...new Set(value.roles.map(checkRole))].sort();
    } catch (err) {
      throw new LineProblem('roles', (err as Error).message);
    }
  }
  let password: Prepared['password'];
  if (value.password_hash === null) password = { hash: NO_PASSWORD, scheme: null };
  else if (value.password_hash !== undefined) {
    try {
      password = { hash: value.password_hash, scheme: parsePasswordHash(value.password_hash).scheme };
    } catch (err) {
      if (err instanceof HashFormatError) throw new LineProblem('password_hash', err.message);
      throw err;
    }
  }
  let totp: Prepared['totp'];
  if (value.totp === null) totp = null;
  else if (value.totp) {
    totp = {
      secret: base32Secret(value.totp.secret),
      params: {
        digits: value.totp.digits ?? DEFAULT_TOTP.digits,
        period: value.totp.period ?? DEFAULT_TOTP.period,
        algorithm: value.totp.algorithm ?? DEFAULT_TOTP.algorithm,
      },
    };
  }
  let recoveryCodes: string[] | undefined;
  if (value.recovery_codes) {
    if (!totp && value.recovery_codes.length) throw new LineProblem('recovery_codes', 'come with an authenticator app: give totp too');
    const [min, max] = IMPORTED_CODE_LENGTH;
    value.recovery_codes.forEach((code, i) => {
      const n = normalizeRecoveryCode(code).length;
      if (n < min || n > max) throw new LineProblem(`recovery_codes.${i}`, `is ${n} characters without spaces and dashes; ${min} to ${max} are accepted`);
    });
    recoveryCodes = [...new Set(value.recovery_codes.map(normalizeRecoveryCode))];
  }
  let createdAt: Date | undefined;
  if (value.created_at !== undefined) {
    createdAt = new Date(value.created_at);
    if (Number.isNaN(createdAt.getTime())) throw new LineProblem('created_at', 'is not a date');
  }
  return {
    line,
    id: value.id,
    email,
    name,
    emailVerified: value.email_verified,
    disabled: value.disabled,
    roles,
    createdAt,
    password,
    totp,
    recoveryCodes,
  };
}

/** What the audit trail says of an imported person: fields, never a hash, secret or code. */
function auditFields(p: Prepared): Record<string, unknown> {
  return {
    email: p.email,
    ...(p.name !== undefined ? { name: p.name } : {}),
    ...(p.emailVerified !== undefined ? { email_verified: p.emailVerified } : {}),
    ...(p.disabled !== undefined ? { disabled: p.disabled } : {}),
    ...(p.roles ? { roles: p.roles } : {}),
    ...(p.password ? { password: p.password.hash === NO_PASSWORD ? 'none' : `imported (${p.password.scheme})` } : {}),
    ...(p.totp !== undefined ? { totp: p.totp ? 'imported' : 'removed' } : {}),
    ...(p.recoveryCodes ? { recovery_codes: p.recoveryCodes.length } : {}),
  };
}

const USER_COLUMNS = [
  'id',
  'email',
  'email_verified',
  'name',
  'password_hash',
  'password_scheme',
  'disabled',
  'created_at',
  'updated_at',
  'totp_secret_enc',
  'totp_enabled_at',
];
const AUDIT_COLUMNS = ['id', 'at', 'type', 'user_id', 'client_id', 'ip', 'user_agent', 'detail', 'actor', 'target'];

export interface UserImportDeps {
  db: Db;
  /** Which SQL the bulk inserts speak. */
  dbKind: DbKind;
  secondFactor: Pick<SecondFactorService, 'hashImportedCode' | 'sealImportedTotp' | 'openTotp'>;
  changes: ChangeTracker;
  now?: () => number;
}

export interface ImportOptions {
  dryRun?: boolean;
  onConflict?: OnConflict;
}

type ExistingUser = {
  id: string;
  email: string;
  name: string | null;
  emailVerified: boolean;
  disabled: boolean;
  passwordHash: string;
  totpSecretEnc: string | null;
  roles: { role: string }[];
  recoveryCodes: { codeHash: string }[];
};

export function createUserImporter({ db, dbKind, secondFactor, changes, now = Date.now }: UserImportDeps) {
  /** The writes of a new person, as statements for the batch's transaction. */
  function createRows(p: Prepared, actor: Actor, meta: RequestMeta) {
    const id = p.id ?? randomUUID();
    const at = new Date(now());
    return {
      user: {
        id,
        email: p.email,
        name: p.name ?? null,
        emailVerified: p.emailVerified ?? false,
        disabled: p.disabled ?? false,
        passwordHash: p.password?.hash ?? NO_PASSWORD,
        passwordScheme: p.password?.scheme ?? null,
        ...(p.createdAt ? { createdAt: p.createdAt } : {}),
        ...(p.totp ? { totpSecretEnc: secondFactor.sealImportedTotp(id, p.totp.secret, p.totp.params), totpEnabledAt: at } : {}),
      },
      roles: (p.roles ?? []).map((role) => ({ userId: id, role })),
      codes: (p.recoveryCodes ?? []).map((code) => ({ id: randomUUID(), userId: id, codeHash: secondFactor.hashImportedCode(id, code) })),
      audit: changeRow(actor, 'user.imported', { kind: 'user', id, userId: id }, auditFields(p), meta),
    };
  }

  /** What an update would change, as the changed fields' names, and the statements doing it. */
  function updatePlan(p: Prepared, u: ExistingUser) {
    const changed: string[] = [];
    const data: Record<string, unknown> = {};
    if (p.name !== undefined && p.name !== u.name) {
      changed.push('name');
      data.name = p.name;
    }
    if (p.emailVerified !== undefined && p.emailVerified !== u.emailVerified) {
      changed.push('email_verified');
      data.emailVerified = p.emailVerified;
    }
    if (p.disabled !== undefined && p.disabled !== u.disabled) {
      changed.push('disabled');
      data.disabled = p.disabled;
    }
    if (p.password && p.password.hash !== u.passwordHash) {
      changed.push('password');
      data.passwordHash = p.password.hash;
      data.passwordScheme = p.password.scheme;
    }
    if (p.totp !== undefined) {
      const current = u.totpSecretEnc ? secondFactor.openTotp(u.id, u.totpSecretEnc) : null;
      const same = p.totp === null ? current === null : current !== null && JSON.stringify(current) === JSON.stringify(p.totp);
      if (!same) {
        changed.push('totp');
        Object.assign(
          data,
          p.totp
            ? {
                totpSecretEnc: secondFactor.sealImportedTotp(u.id, p.totp.secret, p.totp.params),
                totpEnabledAt: new Date(now()),
                totpLastStep: null,
                totpPendingEnc: null,
              }
            : { totpSecretEnc: null, totpEnabledAt: null, totpLastStep: null, totpPendingEnc: null },
        );
      }
    }
    const roles = p.roles && JSON.stringify(p.roles) !== JSON.stringify(u.roles.map((r) => r.role).sort()) ? p.roles : undefined;
    if (roles) changed.push('roles');
    const wanted = p.recoveryCodes?.map((c) => secondFactor.hashImportedCode(u.id, c)).sort();
    const codes = wanted && JSON.stringify(wanted) !== JSON.stringify(u.recoveryCodes.map((c) => c.codeHash).sort()) ? wanted : undefined;
    if (codes) changed.push('recovery_codes');
    return { changed, data, roles, codes };
  }

  async function writeBatch(creates: Prepared[], updates: { p: Prepared; u: ExistingUser }[], actor: Actor, meta: RequestMeta) {
    const rows = creates.map((p) => createRows(p, actor, meta));
    await db.$transaction(
      async (tx) => {
        if (rows.length) {
          // Plain multi-row INSERTs (src/db/bulk-insert.ts): Prisma's createMany cost ~1 ms of CPU a person.
          const at = new Date(now());
          await bulkInsert(
            tx,
            dbKind,
            'users',
            USER_COLUMNS,
            rows.map(({ user: u }) => [
              u.id,
              u.email,
              u.emailVerified,
              u.name,
              u.passwordHash,
              u.passwordScheme,
              u.disabled,
              u.createdAt ?? at,
              at,
              u.totpSecretEnc ?? null,
              u.totpEnabledAt ?? null,
            ]),
          );
          await bulkInsert(
            tx,
            dbKind,
            'user_roles',
            ['user_id', 'role', 'created_at'],
            rows.flatMap((r) => r.roles.map((x) => [x.userId, x.role, at])),
          );
          await bulkInsert(
            tx,
            dbKind,
            'recovery_codes',
            ['id', 'user_id', 'code_hash'],
            rows.flatMap((r) => r.codes.map((c) => [c.id, c.userId, c.codeHash])),
          );
          await bulkInsert(
            tx,
            dbKind,
            'audit_events',
            AUDIT_COLUMNS,
            rows.map(({ audit: a }) => [a.id, at, a.type, a.userId, a.clientId, a.ip, a.userAgent, a.detail, a.actor, a.target]),
          );
        }
        for (const { p, u } of updates) {
          const plan = updatePlan(p, u);
          if (Object.keys(plan.data).length) await tx.user.update({ where: { id: u.id }, data: plan.data });
          if (plan.roles) {
            await tx.userRole.deleteMany({ where: { userId: u.id } });
            await tx.userRole.createMany({ data: plan.roles.map((role) => ({ userId: u.id, role })) });
          }
          if (plan.codes) {
            await tx.recoveryCode.deleteMany({ where: { userId: u.id } });
            await tx.recoveryCode.createMany({ data: plan.codes.map((codeHash) => ({ id: randomUUID(), userId: u.id, codeHash })) });
          }
          const fields = Object.fromEntries(Object.entries(auditFields(p)).filter(([k]) => plan.changed.includes(k) || k === 'email'));
          await tx.auditEvent.create({
            data: changeRow(actor, 'user.imported', { kind: 'user', id: u.id, userId: u.id }, { ...fields, updated: plan.changed }, meta),
          });
        }
      },
      { timeout: 60_000 },
    );
  }

  return {
    /**
     * Imports the lines of `source`. With `dryRun`, checks everything (the
     * database too: conflicts, ids taken) and writes nothing.
     */
    async run(source: AsyncIterable<JsonLine>, actor: Actor, opts: ImportOptions = {}, meta: RequestMeta = {}): Promise<ImportReport> {
      const onConflict = opts.onConflict ?? 'fail';
      const report = newReport(Boolean(opts.dryRun));
      // First line of each email and id in this file; later ones are duplicates.
      const seenEmails = new Map<string, number>();
      const seenIds = new Map<string, number>();
      let wroteSchemes = false;

      for await (const batch of batches(source, IMPORT_BATCH)) {
        const ready: Prepared[] = [];
        for (const item of batch) {
          const email = typeof (item.value as { email?: unknown })?.email === 'string' ? normalizeEmail((item.value as { email: string }).email) : undefined;
          const id = typeof (item.value as { id?: unknown })?.id === 'string' ? (item.value as { id: string }).id : undefined;
          const firstEmail = email ? seenEmails.get(email) : undefined;
          const firstId = id ? seenIds.get(id) : undefined;
          if (email && firstEmail === undefined) seenEmails.set(email, item.line);
          if (id && firstId === undefined) seenIds.set(id, item.line);
          const person = checkedLine(item, ImportedUser, report, 'a person');
          if (person === undefined) continue;
          if (firstEmail !== undefined) {
            reportFailure(report, { line: item.line, field: 'email', message: `the same address as line ${firstEmail}; each person once per file` });
            continue;
          }
          if (firstId !== undefined) {
            reportFailure(report, { line: item.line, field: 'id', message: `the same id as line ${firstId}; ids are unique` });
            continue;
          }
          try {
            ready.push(prepare(person, item.line));
          } catch (err) {
            if (!(err instanceof LineProblem)) throw err;
            reportFailure(report, { line: item.line, field: err.field, message: err.message });
          }
        }
        if (!ready.length) continue;

        const emails = ready.map((p) => p.email);
        const ids = ready.flatMap((p) => (p.id ? [p.id] : []));
        const [byEmail, byId, clientIds] = await Promise.all([
          db.user.findMany({
            where: { email: { in: emails } },
            select: {
              id: true,
              email: true,
              name: true,
              emailVerified: true,
              disabled: true,
              passwordHash: true,
              totpSecretEnc: true,
              roles: { select: { role: true } },
              recoveryCodes: { where: { usedAt: null }, select: { codeHash: true } },
            },
          }),
          ids.length ? db.user.findMany({ where: { id: { in: ids } }, select: { id: true, email: true } }) : [],
          ids.length ? db.client.findMany({ where: { id: { in: ids } }, select: { id: true } }) : [],
        ]);
        const existingByEmail = new Map(byEmail.map((u) => [u.email, u]));
        const takenIds = new Map(byId.map((u) => [u.id, u.email]));
        const clientIdSet = new Set(clientIds.map((c) => c.id));

        const creates: Prepared[] = [];
        const updates: { p: Prepared; u: ExistingUser }[] = [];
        for (const p of ready) {
          const existing = existingByEmail.get(p.email);
          if (p.id && clientIdSet.has(p.id)) {
            reportFailure(report, { line: p.line, field: 'id', message: 'is the client id of an app or service account; a person needs an id of their own' });
            continue;
          }
          if (!existing) {
            if (p.id && takenIds.has(p.id)) {
              reportFailure(report, { line: p.line, field: 'id', message: 'is already the id of another user (with another email)' });
              continue;
            }
            creates.push(p);
            continue;
          }
          if (p.id && p.id !== existing.id) {
            reportFailure(report, {
              line: p.line,
              field: 'id',
              message: `the user with this email already exists with id ${existing.id}; an id never changes`,
            });
            continue;
          }
          if (onConflict === 'fail') {
            reportFailure(report, {
              line: p.line,
              field: 'email',
              message: 'a user with this email already exists (--on-conflict skip leaves them, update overwrites them)',
            });
          } else if (onConflict === 'skip' || updatePlan(p, existing).changed.length === 0) {
            report.skipped++;
          } else {
            updates.push({ p, u: existing });
          }
        }
        if (opts.dryRun) {
          report.created += creates.length;
          report.updated += updates.length;
          continue;
        }
        try {
          await writeBatch(creates, updates, actor, meta);
          report.created += creates.length;
          report.updated += updates.length;
        } catch {
          // Another writer took an email or id meanwhile: line by line, so that only its line fails.
          for (const p of creates) {
            try {
              await writeBatch([p], [], actor, meta);
              report.created++;
            } catch (err) {
              const unique = (err as { code?: string }).code === 'P2002';
              reportFailure(report, {
                line: p.line,
                field: unique ? 'email' : '',
                message: unique ? 'a user with this email or id was created meanwhile; run the import again' : 'could not be written; nothing of it was',
              });
            }
          }
          for (const u of updates) {
            try {
              await writeBatch([], [u], actor, meta);
              report.updated++;
            } catch {
              reportFailure(report, { line: u.p.line, field: '', message: 'could not be written; nothing of it was' });
            }
          }
        }
        if ([...creates, ...updates.map((x) => x.p)].some((p) => p.password?.scheme)) wroteSchemes = true;
      }
      // Every node times password answers against the schemes now in use.
      if (wroteSchemes) await changes.changed('password_schemes');
      // A batch reports its file-level problems before its database ones: in file order.
      report.errors.sort((a, b) => a.line - b.line);
      return report;
    },
  };
}

export type UserImporter = ReturnType<typeof createUserImporter>;
