// People who sign in: creation, lookup, password checks. No Koa, no provider.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';

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

export function createUserService(db: Db, opts: { bcryptCost: number }) {
  return {
    async create(input: { email: string; password: string; name?: string; emailVerified?: boolean }): Promise<PublicUser> {
      const email = normalizeEmail(input.email);
      if (!EMAIL.test(email)) throw invalidInput(`"${input.email}" is not an email address`);
      const policy = checkPasswordPolicy(input.password);
      if (policy) throw invalidInput(policy);
      const passwordHash = await hashPassword(input.password, opts.bcryptCost);
      try {
        return await db.user.create({
          data: { id: randomUUID(), email, name: input.name ?? null, passwordHash, emailVerified: input.emailVerified ?? false },
          select: publicFields,
        });
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw conflict(`a user with email ${email} already exists`);
        throw err;
      }
    },

    list(): Promise<PublicUser[]> {
      return db.user.findMany({ select: publicFields, orderBy: { createdAt: 'asc' } });
    },

    async get(id: string): Promise<PublicUser> {
      const user = await db.user.findUnique({ where: { id }, select: publicFields });
      if (!user) throw notFound(`user ${id}`);
      return user;
    },

    /** For findAccount: the enabled user or nothing. */
    async findActive(id: string): Promise<PublicUser | undefined> {
      const user = await db.user.findUnique({ where: { id }, select: publicFields });
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
        // The person's API keys stop (and start again) with the person, in the same transaction.
        db.apiKey.updateMany({ where: { userId: id }, data: { ownerDisabled: disabled } }),
        ...(disabled ? [db.oidcPayload.deleteMany({ where: { accountId: id } })] : []),
      ]);
      if (count === 0) throw notFound(`user ${id}`);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
