// People who sign in: creation, lookup, password checks. No Koa, no provider.
import type { SessionEndings } from './session-endings.ts';
import { randomUUID } from 'node:crypto';
import type { AccountStore, StoredAccount } from '../../db/account-store.ts';
import type { Db } from '../../db/database.ts';
import { conflict, invalidInput, notFound } from '../../errors.ts';
import { revokePersonKeys } from '../api-keys/api-keys.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import { NO_PASSWORD } from './password-hashes.ts';
import { keyset, toPage, type Page, type PageRequest } from '../admin/pagination.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Clock } from '../../clock.ts';
import { deletePersonArtifacts } from '../../db/owned-artifacts.ts';

/** A person as every caller sees them: the fields findAccount's prepared lookup reads. */
export type PublicUser = StoredAccount;

const publicFields = { id: true, email: true, emailVerified: true, name: true, disabled: true, createdAt: true, locale: true } as const;

/** Emails are compared case-insensitively: we store them trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

// An address is one mailbox: dot-separated atoms (RFC 5322 atext, letters of
// any script) @ dot-separated host labels. Nothing a mail library would read
// as a list, a display name or a comment (, ; < > " ( ) \ and spaces), so the
// address stored, shown in tokens as verified, and mailed is the one that
// receives the message.
const ATOM = "[\\p{L}\\p{M}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[\\p{L}\\p{M}\\p{N}](?:[\\p{L}\\p{M}\\p{N}-]*[\\p{L}\\p{M}\\p{N}])?';
const EMAIL = new RegExp(`^${ATOM}(?:\\.${ATOM})*@${LABEL}(?:\\.${LABEL})+$`, 'u');

export function isEmailAddress(email: string): boolean {
  return email.length <= 254 && EMAIL.test(email);
}

export const MAX_NAME_LENGTH = 100;

/** What is wrong with a person's name, if anything (it goes into pages, tokens and mail). */
export function nameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME_LENGTH) return `can be at most ${MAX_NAME_LENGTH} characters`;
  // Line breaks and other control characters: a name is one line of text.
  if (/[\p{Cc}\u2028\u2029]/u.test(name)) return 'must be one line of text, without control characters';
  return undefined;
}

// Role names: what an API compares against, so plain tokens only.
const ROLE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function checkRole(role: string): string {
  if (!ROLE.test(role)) throw invalidInput(`role "${role}" must be 1–64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`);
  return role;
}

function checkEmail(input: string): string {
  const email = normalizeEmail(input);
  if (!isEmailAddress(email)) throw invalidInput(`"${input}" is not an email address`);
  return email;
}

export interface NewUser {
  email: string;
  /** Absent: an account without a password (NO_PASSWORD) until its person sets one through a link. */
  password?: string;
  name?: string;
  emailVerified?: boolean;
}

export interface UserChanges {
  email?: string;
  emailVerified?: boolean;
  name?: string | null;
  disabled?: boolean;
}

export function createUserService(db: Db, accounts: AccountStore, clock: Clock, opts: { bcryptCost: number; sessionEndings?: SessionEndings }) {
  const endings = opts.sessionEndings;
  const uniqueEmail = async <T>(email: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`a user with email ${email} already exists`);
      throw err;
    }
  };

  const service = {
    async create(input: NewUser): Promise<PublicUser> {
      return service.createWithHash(await service.checkNew(input));
    },

    /**
     * A new person's fields checked and their password hashed, for
     * createWithHash: an administrator's change hashes before its
     * transaction begins, so that no transaction waits for bcrypt.
     */
    async checkNew(input: NewUser): Promise<{ email: string; name?: string; passwordHash: string; emailVerified?: boolean }> {
      const email = normalizeEmail(input.email);
      if (!isEmailAddress(email)) throw invalidInput(`"${input.email}" is not an email address`);
      const badName = input.name ? nameProblem(input.name) : undefined;
      if (badName) throw invalidInput(`name ${badName}`);
      const passwordHash = input.password === undefined ? NO_PASSWORD : await service.hashNewPassword(input.password);
      return { email, name: input.name, passwordHash, emailVerified: input.emailVerified };
    },

    /** For a password hashed earlier (a sign-up confirmed by its link). */
    async createWithHash(input: {
      email: string;
      name?: string | null;
      passwordHash: string;
      emailVerified?: boolean;
      locale?: string | null;
    }): Promise<PublicUser> {
      const email = normalizeEmail(input.email);
      try {
        return await db.user.create({
          data: {
            id: randomUUID(),
            email,
            name: input.name || null,
            passwordHash: input.passwordHash,
            emailVerified: input.emailVerified ?? false,
            locale: input.locale ?? null,
          },
          select: publicFields,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a user with email ${email} already exists`);
        throw err;
      }
    },

    hashPassword(password: string): Promise<string> {
      return hashPassword(password, opts.bcryptCost);
    },

    async findByEmail(email: string): Promise<PublicUser | undefined> {
      const normalized = normalizeEmail(email);
      if (!normalized) return undefined;
      return (await db.user.findUnique({ where: { email: normalized }, select: publicFields })) ?? undefined;
    },

    list(): Promise<PublicUser[]> {
      return db.user.findMany({ select: publicFields, orderBy: { createdAt: 'asc' } });
    },

    /**
     * Oldest first; `email` finds addresses containing it (case-insensitive: emails are stored lower-cased);
     * `search` (the admin console's box) finds an address or name containing it, or the id itself.
     */
    async page(req: PageRequest & { email?: string; search?: string } = {}): Promise<Page<PublicUser>> {
      const k = keyset('createdAt', req);
      const text = req.search?.trim();
      const search = req.email
        ? { email: { contains: normalizeEmail(req.email) } }
        : text
          ? { OR: [{ email: { contains: normalizeEmail(text) } }, { name: { contains: text } }, { id: text }] }
          : {};
      const rows = await db.user.findMany({ where: { AND: [search, k.where] }, orderBy: k.orderBy, take: k.take, select: publicFields });
      return toPage(
        rows,
        k.take,
        (r) => ({ at: r.createdAt, id: r.id }),
        (r) => r,
      );
    },

    /**
     * Changes a person's profile. Disabling goes through setDisabled's rules
     * (sessions and grants end); the email keeps its format and uniqueness.
     */
    async update(id: string, changes: UserChanges, precondition?: (current: PublicUser) => void): Promise<PublicUser> {
      const current = await service.get(id);
      precondition?.(current);
      const email = changes.email === undefined ? undefined : checkEmail(changes.email);
      const name = changes.name === undefined ? undefined : changes.name === null ? null : changes.name.trim() || null;
      const badName = name ? nameProblem(name) : undefined;
      if (badName) throw invalidInput(`name ${badName}`);
      const data = {
        ...(email !== undefined ? { email } : {}),
        ...(changes.emailVerified !== undefined
          ? { emailVerified: changes.emailVerified }
          : email !== undefined && email !== current.email
            ? { emailVerified: false }
            : {}),
        ...(name !== undefined ? { name } : {}),
      };
      if (Object.keys(data).length) await uniqueEmail(email ?? current.email, () => db.user.update({ where: { id }, data }));
      if (changes.disabled !== undefined && changes.disabled !== current.disabled) await service.setDisabled(id, changes.disabled);
      return service.get(id);
    },

    async get(id: string): Promise<PublicUser> {
      const user = await db.user.findUnique({ where: { id }, select: publicFields });
      if (!user) throw notFound(`user ${id}`);
      return user;
    },

    /** For findAccount: the enabled user or nothing. */
    async findActive(id: string): Promise<PublicUser | undefined> {
      // On every token a person's app gets or uses: a prepared statement.
      const user = await accounts.find(id);
      return user && !user.disabled ? user : undefined;
    },

    async setPassword(id: string, password: string): Promise<void> {
      await service.setPasswordHash(id, await service.hashNewPassword(password));
    },

    /** A new password checked against the policy, and hashed (see checkNew). */
    async hashNewPassword(password: string): Promise<string> {
      const policy = checkPasswordPolicy(password);
      if (policy) throw invalidInput(policy);
      return hashPassword(password, opts.bcryptCost);
    },

    async setPasswordHash(id: string, passwordHash: string): Promise<void> {
      const { count } = await db.user.updateMany({ where: { id }, data: { passwordHash } });
      if (count === 0) throw notFound(`user ${id}`);
    },

    /**
     * A password reset: the new password, the address proven (the link came
     * to it), every session, grant, code and stored token of the person
     * ended and every API key of theirs revoked, in one transaction (as when
     * disabling). Returns how many keys were revoked.
     */
    async resetPassword(id: string, passwordHash: string): Promise<{ apiKeysRevoked: number }> {
      const signIns = (await endings?.signInsOf(id)) ?? [];
      const [{ count }, , , keys] = await db.$transaction([
        db.user.updateMany({ where: { id }, data: { passwordHash, emailVerified: true } }),
        ...deletePersonArtifacts(db, id),
        revokePersonKeys(db, id, new Date(clock.now())),
        ...(endings ? [endings.owe(signIns)] : []),
      ]);
      if (count === 0) throw notFound(`user ${id}`);
      endings?.ended(signIns);
      return { apiKeysRevoked: keys.count };
    },

    /** The person's own profile from the account page: their name and the language of their pages and mail. */
    async updateProfile(id: string, profile: { name: string | null; locale: string | null }): Promise<void> {
      const name = profile.name?.trim() || null;
      const badName = name ? nameProblem(name) : undefined;
      if (badName) throw invalidInput(`name ${badName}`);
      const { count } = await db.user.updateMany({ where: { id }, data: { name, locale: profile.locale } });
      if (count === 0) throw notFound(`user ${id}`);
    },

    /** Remembers the language a person chose (or used) for their pages and mail. */
    async setLocale(id: string, locale: string): Promise<void> {
      await db.user.updateMany({ where: { id, OR: [{ locale: null }, { locale: { not: locale } }] }, data: { locale } });
    },

    async markEmailVerified(id: string): Promise<boolean> {
      const { count } = await db.user.updateMany({ where: { id, emailVerified: false }, data: { emailVerified: true } });
      return count === 1;
    },

    async hasTotp(id: string): Promise<boolean> {
      return (await db.user.count({ where: { id, totpSecretEnc: { not: null } } })) === 1;
    },

    /** An authenticator app or a passkey: either can be the second step of a sign-in. */
    async hasSecondFactor(id: string): Promise<boolean> {
      return (await db.user.count({ where: { id, OR: [{ totpSecretEnc: { not: null } }, { passkeys: { some: {} } }] } })) === 1;
    },

    async roles(id: string): Promise<string[]> {
      return (await db.userRole.findMany({ where: { userId: id }, orderBy: { role: 'asc' } })).map((r) => r.role);
    },

    /** An enabled person holding `role`, if there is one (the admin console's bootstrap refuses then). */
    async enabledHolderOf(role: string): Promise<PublicUser | undefined> {
      const row = await db.userRole.findFirst({ where: { role, user: { disabled: false } }, select: { user: { select: publicFields } } });
      return row?.user ?? undefined;
    },

    /** Adds a role; false when the person already had it. */
    async addRole(id: string, role: string): Promise<boolean> {
      checkRole(role);
      await service.get(id);
      try {
        await db.userRole.create({ data: { userId: id, role } });
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },

    /** Removes a role; false when the person did not have it. */
    async removeRole(id: string, role: string): Promise<boolean> {
      await service.get(id);
      const { count } = await db.userRole.deleteMany({ where: { userId: id, role } });
      return count === 1;
    },

    /**
     * Disabling also ends every session, revokes every grant, code and
     * stored token of the person, and revokes their API keys, on every node
     * at once (they all read the same rows). Enabling does not bring the
     * keys back: an account disabled because it was taken over must not get
     * the intruder's keys back with it. JWT access tokens already issued
     * live out their lifetime.
     */
    async setDisabled(id: string, disabled: boolean): Promise<void> {
      const signIns = (disabled && (await endings?.signInsOf(id))) || [];
      const [{ count }] = await db.$transaction([
        db.user.updateMany({ where: { id }, data: { disabled } }),
        db.apiKey.updateMany({ where: { userId: id }, data: { ownerDisabled: disabled } }),
        ...(disabled ? [...deletePersonArtifacts(db, id), revokePersonKeys(db, id, new Date(clock.now()))] : []),
        ...(endings ? [endings.owe(signIns)] : []),
      ]);
      if (count === 0) throw notFound(`user ${id}`);
      endings?.ended(signIns);
    },
  };
  return service;
}

export type UserService = ReturnType<typeof createUserService>;
