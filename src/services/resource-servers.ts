// API resources (RFC 8707 audiences): what scopes they define, and whether
// their access tokens are JWTs (RFC 9068) or opaque (checked by introspection).
import type { Db } from '../db/database.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';
import { checkScope } from './clients.ts';
import { configCache, type ChangeTracker } from './config-cache.ts';

export interface ResourceServerRecord {
  identifier: string;
  scope: string;
  format: 'jwt' | 'opaque';
  ttl: number;
  /** What its access tokens say about the person (when issued to one). */
  claims: PersonClaim[];
  createdAt: Date;
}

/** Claims about the signed-in person an API may ask for in its access tokens (and introspection answers). */
export const PERSON_CLAIMS = ['email', 'email_verified', 'name', 'roles'] as const;
export type PersonClaim = (typeof PERSON_CLAIMS)[number];

export function checkClaims(input: string): PersonClaim[] {
  const claims = [...new Set(input.split(/[\s,]+/).filter(Boolean))];
  const unknown = claims.filter((c) => !(PERSON_CLAIMS as readonly string[]).includes(c));
  if (unknown.length) throw invalidInput(`--claims: unknown claim ${unknown.map((c) => `"${c}"`).join(', ')}; choose from: ${PERSON_CLAIMS.join(' ')}`);
  return claims as PersonClaim[];
}

export function checkResourceIdentifier(identifier: string): string {
  let url: URL;
  try {
    url = new URL(identifier);
  } catch {
    throw invalidInput(`resource identifier "${identifier}" is not an absolute URI`);
  }
  // RFC 8707 §2: an absolute URI without a fragment.
  if (url.hash || identifier.includes('#')) throw invalidInput(`resource identifier "${identifier}" must not contain a fragment`);
  return identifier;
}

export function createResourceServerService(db: Db, changes: ChangeTracker) {
  const toRecord = (r: { identifier: string; scope: string; format: string; ttl: number; claims: string; createdAt: Date }): ResourceServerRecord => ({
    ...r,
    format: r.format === 'opaque' ? 'opaque' : 'jwt',
    claims: r.claims.split(' ').filter(Boolean) as PersonClaim[],
  });

  return {
    async create(input: { identifier: string; scope: string; format?: string; ttl?: number; claims?: string }): Promise<ResourceServerRecord> {
      const format = input.format ?? 'jwt';
      if (format !== 'jwt' && format !== 'opaque') throw invalidInput('--format must be jwt or opaque');
      const ttl = input.ttl ?? 3600;
      if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86400) throw invalidInput('--ttl must be a whole number of seconds from 60 to 86400');
      try {
        const created = toRecord(await db.resourceServer.create({
          data: { identifier: checkResourceIdentifier(input.identifier), scope: checkScope(input.scope), format, ttl, claims: checkClaims(input.claims ?? '').join(' ') },
        }));
        await changes.changed('resources');
        return created;
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw conflict(`resource ${input.identifier} already exists`);
        throw err;
      }
    },

    /**
     * Makes sure `identifier` is registered and defines at least `scopes`
     * (adding the missing ones; an operator's own additions stay). For
     * resources the server itself serves; safe when nodes race.
     */
    async ensure(identifier: string, scopes: string[]): Promise<void> {
      if (!scopes.length) return;
      let row = await db.resourceServer.findUnique({ where: { identifier } });
      if (!row) {
        try {
          await db.resourceServer.create({ data: { identifier: checkResourceIdentifier(identifier), scope: checkScope(scopes.join(' ')), format: 'jwt', ttl: 3600 } });
          await changes.changed('resources');
          return;
        } catch (err) {
          // Another node registered it first: carry on with its row.
          if ((err as { code?: string }).code !== 'P2002') throw err;
          row = await db.resourceServer.findUniqueOrThrow({ where: { identifier } });
        }
      }
      const have = row.scope.split(' ');
      const missing = scopes.filter((s) => !have.includes(s));
      if (!missing.length) return;
      await db.resourceServer.update({ where: { identifier }, data: { scope: checkScope([...have, ...missing].join(' ')) } });
      await changes.changed('resources');
    },

    async list(): Promise<ResourceServerRecord[]> {
      return (await db.resourceServer.findMany({ orderBy: { createdAt: 'asc' } })).map(toRecord);
    },

    /** From memory, loaded once per change of any resource. */
    find: configCache(changes, 'resources', async (identifier): Promise<ResourceServerRecord | undefined> => {
      const row = await db.resourceServer.findUnique({ where: { identifier } });
      return row ? toRecord(row) : undefined;
    }),

    async delete(identifier: string): Promise<void> {
      const { count } = await db.resourceServer.deleteMany({ where: { identifier } });
      if (count === 0) throw notFound(`resource ${identifier}`);
      await changes.changed('resources');
    },
  };
}

export type ResourceServerService = ReturnType<typeof createResourceServerService>;
