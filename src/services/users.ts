// People who sign in: creation, lookup, password checks. No Koa, no provider.
import { randomUUID } from 'node:crypto';
import type { AccountStore } from '../db/account-store.ts';
import type { Db } from '../db/database.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import { keyset, toPage, type Page, type PageRequest } from './pagination.ts';

export interface PublicUser {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  disabled: boolean;
  createdAt: Date;
}

const publicFields = { id: true, email: true, emailVerified: true, name: true, disabled: true, createdAt: true } as const;

/** Emails are compared case-insensitively: we store them trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function checkEmail(input: string): string {
  const email = normalizeEmail(input);
  if (!EMAIL.test(email)) throw invalidInput(`"${input}" is not an email address`);
  return email;
}

export interface UserChanges {
  email?: string;
  emailVerified?: boolean;
  name?: string | null;
  disabled?: boolean;
}

export function createUserService(db: Db, accounts: AccountStore, opts: { bcryptCost: number }) {
  const uniqueEmail = async <T>(email: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (err) {
      if ((err as { code?: string }).code === 'P2002') throw conflict(`a user with email ${email} already exists`);
      throw err;
    }
  };

  return {
    async create(input: { email: string; password: string; name?: string; emailVerified?: boolean }): Promise<PublicUser> {
      const email = checkEmail(input.email);
      const policy = checkPasswordPolicy(input.password);
      if (policy) throw invalidInput(policy);
      const passwordHash = await hashPassword(input.password, opts.bcryptCost);
      return uniqueEmail(email, () => db.user.create({
        data: { id: randomUUID(), email, name: input.name ?? null, passwordHash, emailVerified: input.emailVerified ?? false },
        select: publicFields,
      }));
    },

    list(): Promise<PublicUser[]> {
      return db.user.findMany({ select: publicFields, orderBy: { createdAt: 'asc' } });
    },

    /** Oldest first; `email` finds addresses containing it (case-insensitive: emails are stored lower-cased). */
    async page(req: PageRequest & { email?: string } = {}): Promise<Page<PublicUser>> {
      const k = keyset('createdAt', req);
      const search = req.email ? { email: { contains: normalizeEmail(req.email) } } : {};
      const rows = await db.user.findMany({ where: { AND: [search, k.where] }, orderBy: k.orderBy, take: k.take, select: publicFields });
      return toPage(rows, k.take, (r) => ({ at: r.createdAt, id: r.id }), (r) => r);
    },

    /**
     * Changes a person's profile. Disabling goes through setDisabled's rules
     * (sessions and grants end); the email keeps its format and uniqueness.
     */
    async update(id: string, changes: UserChanges, precondition?: (current: PublicUser) => void): Promise<PublicUser> {
      const current = await this.get(id);
      precondition?.(current);
      const email = changes.email === undefined ? undefined : checkEmail(changes.email);
      const name = changes.name === undefined ? undefined : changes.name === null ? null : changes.name.trim() || null;
      if (name && name.length > 200) throw invalidInput('name must be at most 200 characters');
      const data = {
        ...(email !== undefined ? { email } : {}),
        ...(changes.emailVerified !== undefined ? { emailVerified: changes.emailVerified } : email !== undefined && email !== current.email ? { emailVerified: false } : {}),
        ...(name !== undefined ? { name } : {}),
      };
      if (Object.keys(data).length) await uniqueEmail(email ?? current.email, () => db.user.update({ where: { id }, data }));
      if (changes.disabled !== undefined && changes.disabled !== current.disabled) await this.setDisabled(id, changes.disabled);
      return this.get(id);
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
      const policy = checkPasswordPolicy(password);
      if (policy) throw invalidInput(policy);
      const passwordHash = await hashPassword(password, opts.bcryptCost);
      const { count } = await db.user.updateMany({ where: { id }, data: { passwordHash } });
      if (count === 0) throw notFound(`user ${id}`);
    },

    async hasSecondFactor(id: string): Promise<boolean> {
      return (await db.user.count({ where: { id, totpSecretEnc: { not: null } } })) === 1;
    },

    /**
     * Disabling also ends every session and revokes every grant, code and
     * stored token of the person, on every node at once (they all read the
     * same rows). JWT access tokens already issued live out their lifetime.
     */
    async setDisabled(id: string, disabled: boolean): Promise<void> {
      const [{ count }] = await db.$transaction([
        db.user.updateMany({ where: { id }, data: { disabled } }),
        ...(disabled ? [db.oidcPayload.deleteMany({ where: { accountId: id } })] : []),
      ]);
      if (count === 0) throw notFound(`user ${id}`);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
