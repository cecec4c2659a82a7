// API resources (RFC 8707 audiences): what scopes they define, and whether
// their access tokens are JWTs (RFC 9068) or opaque (checked by introspection);
// which of their scopes a person may hold (role-restricted scopes, resources
// for machines only; the rule itself is src/services/apis/person-scopes.ts).
import type { Db } from '../../db/database.ts';
import { conflict, invalidInput, notFound } from '../../errors.ts';
import { checkScope } from '../machines/clients.ts';
import { configCache, type ChangeTracker } from '../machines/config-cache.ts';
import { checkRole } from '../people/users.ts';

export interface ResourceServerRecord {
  identifier: string;
  scope: string;
  format: 'jwt' | 'opaque';
  ttl: number;
  /** What its access tokens say about the person (when issued to one). */
  claims: PersonClaim[];
  /** Scopes a person holds only with one of the listed roles; scopes not listed any person may hold. */
  scopeRoles: ScopeRoles;
  /** No person ever holds its scopes (tokens and keys for it are machines' only). */
  machinesOnly: boolean;
  createdAt: Date;
}

/** Scope → the roles of which a person needs one to hold it. */
export type ScopeRoles = Record<string, string[]>;

export interface ResourceInput {
  identifier: string;
  scope: string;
  format?: string;
  ttl?: number;
  claims?: string;
  scopeRoles?: ScopeRoles;
  machinesOnly?: boolean;
}

/**
 * A change to a resource. `scopeRoles` changes the scopes it names only: a
 * scope given an empty list becomes unrestricted, scopes not named keep
 * theirs. Scopes dropped from `scope` lose their restriction with them.
 */
export type ResourceChanges = Partial<Omit<ResourceInput, 'identifier'>>;

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

/**
 * `--scope-role SCOPE=ROLE[,ROLE…]` values (repeatable) as scope roles; an
 * empty role list (`SCOPE=`) lifts the restriction (in an update).
 */
export function parseScopeRoles(values: readonly string[]): ScopeRoles {
  const out: ScopeRoles = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw invalidInput(`--scope-role "${value}" must be SCOPE=ROLE[,ROLE…], e.g. cmdb.write=admin,ops`);
    const scope = value.slice(0, eq).trim();
    out[scope] = [
      ...(out[scope] ?? []),
      ...value
        .slice(eq + 1)
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    ];
  }
  return out;
}

/** Scope roles checked against the scopes the resource defines; unrestricted scopes are left out. */
function checkScopeRoles(scopeRoles: ScopeRoles, scope: string): ScopeRoles {
  const defined = new Set(scope.split(' '));
  const out: ScopeRoles = {};
  for (const [name, roles] of Object.entries(scopeRoles)) {
    if (!defined.has(name)) throw invalidInput(`scope roles name "${name}", which the resource does not define (it defines: ${scope})`);
    if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) throw invalidInput(`the roles of scope "${name}" must be a list of role names`);
    const checked = [...new Set(roles.map(checkRole))];
    if (checked.length) out[name] = checked;
  }
  return out;
}

const format = (value: string | undefined, fallback: 'jwt' | 'opaque'): 'jwt' | 'opaque' => {
  const f = value ?? fallback;
  if (f !== 'jwt' && f !== 'opaque') throw invalidInput('--format must be jwt or opaque');
  return f;
};

const ttlOf = (value: number | undefined, fallback: number): number => {
  const ttl = value ?? fallback;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86400) throw invalidInput('--ttl must be a whole number of seconds from 60 to 86400');
  return ttl;
};

export interface ResourceServerOptions {
  /** Resources that are always for machines only, whatever their row says (the admin API's). */
  alwaysMachinesOnly?: readonly string[];
}

export function createResourceServerService(db: Db, changes: ChangeTracker, opts: ResourceServerOptions = {}) {
  const alwaysMachinesOnly = new Set(opts.alwaysMachinesOnly ?? []);
  type Row = { identifier: string; scope: string; format: string; ttl: number; claims: string; scopeRoles: string; machinesOnly: boolean; createdAt: Date };
  const toRecord = (r: Row): ResourceServerRecord => ({
    identifier: r.identifier,
    scope: r.scope,
    format: r.format === 'opaque' ? 'opaque' : 'jwt',
    ttl: r.ttl,
    claims: r.claims.split(' ').filter(Boolean) as PersonClaim[],
    scopeRoles: JSON.parse(r.scopeRoles || '{}') as ScopeRoles,
    machinesOnly: r.machinesOnly || alwaysMachinesOnly.has(r.identifier),
    createdAt: r.createdAt,
  });
  const checkMachinesOnly = (identifier: string, requested: boolean | undefined, current = false) => {
    if (requested === false && alwaysMachinesOnly.has(identifier))
      throw invalidInput(`${identifier} is always for machines only: no person may hold its scopes`);
    return (requested ?? current) || alwaysMachinesOnly.has(identifier);
  };

  return {
    async create(input: ResourceInput): Promise<ResourceServerRecord> {
      const identifier = checkResourceIdentifier(input.identifier);
      const scope = checkScope(input.scope);
      try {
        const created = toRecord(
          await db.resourceServer.create({
            data: {
              identifier,
              scope,
              format: format(input.format, 'jwt'),
              ttl: ttlOf(input.ttl, 3600),
              claims: checkClaims(input.claims ?? '').join(' '),
              scopeRoles: JSON.stringify(checkScopeRoles(input.scopeRoles ?? {}, scope)),
              machinesOnly: checkMachinesOnly(identifier, input.machinesOnly),
            },
          }),
        );
        await changes.changed('resources');
        return created;
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw conflict(`resource ${input.identifier} already exists`);
        throw err;
      }
    },

    /** Changes what is given; `precondition` sees the current resource first (If-Match). */
    async update(identifier: string, input: ResourceChanges, precondition?: (current: ResourceServerRecord) => void): Promise<ResourceServerRecord> {
      const row = await db.resourceServer.findUnique({ where: { identifier } });
      if (!row) throw notFound(`resource ${identifier}`);
      const current = toRecord(row);
      precondition?.(current);
      const scope = input.scope === undefined ? current.scope : checkScope(input.scope);
      const kept = Object.fromEntries(Object.entries(current.scopeRoles).filter(([s]) => scope.split(' ').includes(s)));
      const updated = await db.resourceServer.updateMany({
        // Conditional on the row read: a concurrent change makes this one fail rather than be overwritten.
        where: {
          identifier,
          scope: row.scope,
          scopeRoles: row.scopeRoles,
          machinesOnly: row.machinesOnly,
          format: row.format,
          ttl: row.ttl,
          claims: row.claims,
        },
        data: {
          scope,
          format: format(input.format, current.format),
          ttl: ttlOf(input.ttl, current.ttl),
          claims: input.claims === undefined ? row.claims : checkClaims(input.claims).join(' '),
          scopeRoles: JSON.stringify(checkScopeRoles({ ...kept, ...(input.scopeRoles ?? {}) }, scope)),
          machinesOnly: checkMachinesOnly(identifier, input.machinesOnly, row.machinesOnly),
        },
      });
      if (updated.count === 0) throw conflict(`resource ${identifier} was changed by someone else at the same time; read it again and reapply`);
      await changes.changed('resources');
      return toRecord(await db.resourceServer.findUniqueOrThrow({ where: { identifier } }));
    },

    async get(identifier: string): Promise<ResourceServerRecord> {
      const row = await db.resourceServer.findUnique({ where: { identifier } });
      if (!row) throw notFound(`resource ${identifier}`);
      return toRecord(row);
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
          await db.resourceServer.create({
            data: {
              identifier: checkResourceIdentifier(identifier),
              scope: checkScope(scopes.join(' ')),
              format: 'jwt',
              ttl: 3600,
              machinesOnly: alwaysMachinesOnly.has(identifier),
            },
          });
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
