// RFC 8707 resource indicators: registered API resources become audiences of
// access tokens, in the format and lifetime the resource asked for, carrying
// only the scopes the client was granted (src/services/apis/api-access.ts) and,
// for a person, only those the person holds (src/services/apis/person-scopes.ts).
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { decideScopes, splitScope, allowedAt } from '../services/apis/api-access.ts';
import { dependsOnRoles, personScopesAt } from '../services/apis/person-scopes.ts';
import type { ResourceServerRecord, ResourceServerService } from '../services/apis/resource-servers.ts';
import type { RolesOf } from './person-roles.ts';

/** Extra client metadata (see extraClientMetadata): the API scopes a client was granted. */
export const API_SCOPE = 'latchkey_api_scope';
/** Extra client metadata: a service account's scope when it asks for none. */
export const DEFAULT_API_SCOPE = 'latchkey_default_scope';
/** Extra client metadata: the API a person's authorization asking for API scopes is for when it names none. */
export const DEFAULT_RESOURCE = 'latchkey_default_resource';

export interface ResourceServerInfo {
  audience: string;
  scope: string;
  accessTokenTTL: number;
  accessTokenFormat: 'jwt' | 'opaque';
  jwt?: { sign: { alg: 'RS256' } };
}

export const refuse = (error: string, description: string) => new errors.CustomOIDCProviderError(error, description);

export async function findResource(resources: ResourceServerService, identifier: string): Promise<ResourceServerRecord> {
  const rs = await resources.find(identifier);
  if (!rs) throw refuse('invalid_target', `resource '${identifier}' is not registered`);
  return rs;
}

/**
 * What a token for `rs` may carry when the client's granted API scopes are
 * `ceiling` (and, for a person, `held` the scopes they hold there).
 */
export function resourceServerInfo(rs: ResourceServerRecord, ceiling: readonly string[], held?: readonly string[]): ResourceServerInfo {
  const allowed = allowedAt(rs, ceiling);
  return {
    audience: rs.identifier,
    scope: (held ? allowed.filter((s) => held.includes(s)) : allowed).join(' '),
    accessTokenTTL: rs.ttl,
    accessTokenFormat: rs.format,
    ...(rs.format === 'jwt' ? { jwt: { sign: { alg: 'RS256' as const } } } : {}),
  };
}

type ClientLike = { clientId: string; metadata(): Record<string, unknown> };

export const ceilingOf = (client: ClientLike) => splitScope(client.metadata()[API_SCOPE] as string | undefined);

const AUTHORIZATION_ROUTES = new Set(['authorization', 'pushed_authorization_request']);
/** Where a person's authorization request is read: at first, and again when it resumes after the pages. */
const PERSON_ROUTES = new Set([...AUTHORIZATION_ROUTES, 'resume']);

const quoted = (scopes: readonly string[]) => scopes.map((s) => `'${s}'`).join(', ');

/**
 * oidc-provider's `defaultResource`. A person's authorization that asks for
 * scopes other than OpenID Connect's but names no `resource` is for the
 * client's default resource (`client create --default-resource`), like
 * Auth0's default audience; without one those scopes are refused with
 * `invalid_scope` naming them (the library would drop them silently).
 * Client credentials use the client's default resource too, else
 * DEFAULT_RESOURCE; with neither, API scopes are refused the same way.
 */
export function buildDefaultResource(oidcScopes: readonly string[], machineDefault: string | undefined) {
  return async (ctx: KoaContextWithOIDC, client?: ClientLike, oneOf?: readonly string[]): Promise<string | undefined> => {
    const params = ctx.oidc.params as Record<string, unknown> | undefined;
    if (!oneOf && client && PERSON_ROUTES.has(String(ctx.oidc.route))) {
      const apiScopes = splitScope(params?.scope as string | undefined).filter((s) => !oidcScopes.includes(s));
      if (!apiScopes.length) return undefined;
      const fallback = client.metadata()[DEFAULT_RESOURCE];
      if (typeof fallback === 'string') return fallback;
      throw refuse(
        'invalid_scope',
        `unknown scope ${quoted(apiScopes)}: not an OpenID Connect scope (${oidcScopes.join(' ')}), and client '${client.clientId}' has no default resource; ` +
          'name the API with the resource parameter (RFC 8707), or register the client with --default-resource',
      );
    }
    if (params?.grant_type !== 'client_credentials') return undefined;
    // A machine's token: the client's own default API first, then the server's.
    const fallback = client?.metadata()[DEFAULT_RESOURCE];
    if (typeof fallback === 'string') return fallback;
    if (machineDefault) return machineDefault;
    const apiScopes = splitScope(params.scope as string | undefined).filter((s) => !oidcScopes.includes(s));
    if (!apiScopes.length) return undefined;
    // Without an API the library would drop them and issue a token with no scope at all.
    throw refuse(
      'invalid_scope',
      `scope ${quoted(apiScopes)} needs an API to be granted at: send resource=<the API's identifier> (RFC 8707), or register client '${client?.clientId}' with --default-resource (or set DEFAULT_RESOURCE)`,
    );
  };
}

/**
 * Whose token a request is for, where a person is involved: the signed-in
 * person at the authorization endpoint (once known: not while they are asked
 * to sign in again) and when it resumes after the pages; the person of the
 * code or refresh token at the token endpoint. `false` for a machine's request.
 */
function personOf(ctx: KoaContextWithOIDC): { accountId?: string } | false {
  const route = String(ctx.oidc.route);
  const params = ctx.oidc.params as Record<string, unknown> | undefined;
  if (route === 'resume') return { accountId: ctx.oidc.session?.accountId };
  if (route === 'authorization') {
    const relogin = splitScope(params?.prompt as string | undefined).includes('login');
    return { accountId: relogin ? undefined : ctx.oidc.session?.accountId };
  }
  if (route === 'pushed_authorization_request') return {};
  if (route === 'token' && (params?.grant_type === 'authorization_code' || params?.grant_type === 'refresh_token')) {
    const { AuthorizationCode: code, RefreshToken: refresh } = ctx.oidc.entities;
    return { accountId: (code ?? refresh)?.accountId };
  }
  return false;
}

/**
 * oidc-provider's `getResourceServerInfo`: refuses a resource the client was
 * granted nothing at, for every grant. It also decides what a request must
 * ask for, where the library would otherwise issue a token with whatever part
 * of the request is allowed, including nothing at all:
 * - client credentials: the requested scopes allowed there, or the client's
 *   default when none is requested;
 * - a person's authorization for an API: at least one scope of that API the
 *   app was granted (an audience-only token is not issued);
 * - a person's token carries only what the person holds there now: a
 *   role-restricted scope they lack is left out (the token response's
 *   `scope` says what was granted, RFC 6749 §3.3) — out of the consent and
 *   the grant too, since the consent asks for what this allows — and a
 *   request left with none of its scopes of an API is refused; a resource for
 *   machines only is refused outright.
 */
export function buildGetResourceServerInfo(resources: ResourceServerService, oidcScopes: readonly string[], rolesOf: RolesOf) {
  return async (ctx: KoaContextWithOIDC, identifier: string, client: ClientLike): Promise<ResourceServerInfo> => {
    const rs = await findResource(resources, identifier);
    const ceiling = ceilingOf(client);
    const who = `client '${client.clientId}'`;
    const params = ctx.oidc.params as Record<string, unknown> | undefined;
    const person = personOf(ctx);
    if (person && rs.machinesOnly) {
      throw refuse(
        'invalid_target',
        `${rs.identifier} is for machines only: a person's authorization never gets a token for it (use client credentials or a service account)`,
      );
    }
    if (AUTHORIZATION_ROUTES.has(String(ctx.oidc.route))) {
      const requested = splitScope(params?.scope as string | undefined).filter((s) => !oidcScopes.includes(s));
      const allowed = allowedAt(rs, ceiling);
      // A scope the app may have at none of the requested APIs is refused by name, not dropped.
      const named = ([] as unknown[]).concat(params?.resource ?? []).filter((r): r is string => typeof r === 'string' && r !== identifier);
      const others = (await Promise.all(named.map((r) => resources.find(r)))).filter((r): r is ResourceServerRecord => Boolean(r));
      const anywhere = new Set([...allowed, ...others.flatMap((r) => allowedAt(r, ceiling))]);
      const unknown = requested.filter((s) => !anywhere.has(s));
      if (unknown.length && allowed.length) {
        throw refuse(
          'invalid_scope',
          `scope ${quoted(unknown)} is not allowed for ${who} at ${[rs, ...others].map((r) => r.identifier).join(', ')}; it may ask for: ${[...anywhere].join(' ')}`,
        );
      }
      const decision =
        requested.length || !allowed.length
          ? decideScopes({ who, resource: rs, ceiling, requested })
          : {
              ok: false as const,
              error: 'invalid_scope' as const,
              description: `no scope of ${rs.identifier} was requested; request one of: ${allowed.join(' ')}`,
            };
      if (!decision.ok) throw refuse(decision.error, decision.description);
      return personInfo(ctx, rs, ceiling, person || {});
    }
    const clientCredentials = ctx.oidc.route === 'token' && params?.grant_type === 'client_credentials';
    const defaultScope = client.metadata()[DEFAULT_API_SCOPE];
    const decision = decideScopes({
      who,
      resource: rs,
      ceiling,
      requested: clientCredentials ? splitScope(params?.scope as string | undefined) : [],
      // Service accounts have a default scope; apps default to everything they were granted there.
      defaults: clientCredentials && typeof defaultScope === 'string' ? splitScope(defaultScope) : undefined,
    });
    if (!decision.ok) throw refuse(decision.error, decision.description);
    // The library narrows the requested scope to the resource's; with nothing
    // requested it would grant nothing, so the default is put in the request
    // the way the library itself fills in a default resource.
    if (clientCredentials && params && !params.scope) params.scope = decision.scopes.join(' ');
    return person ? personInfo(ctx, rs, ceiling, person) : resourceServerInfo(rs, ceiling);
  };

  /** A person's token: what the app may have there AND the person holds now. */
  async function personInfo(
    ctx: KoaContextWithOIDC,
    rs: ResourceServerRecord,
    ceiling: readonly string[],
    person: { accountId?: string },
  ): Promise<ResourceServerInfo> {
    if (!person.accountId || !dependsOnRoles(rs)) return resourceServerInfo(rs, ceiling);
    const held = personScopesAt(rs, await rolesOf(ctx, person.accountId));
    const info = resourceServerInfo(rs, ceiling, held);
    // What this request asks for there: the authorization's scopes, or at the token endpoint the code's or refresh token's.
    const params = ctx.oidc.params as Record<string, unknown> | undefined;
    const { AuthorizationCode: code, RefreshToken: refresh } = ctx.oidc.entities;
    const asked = splitScope((params?.scope as string | undefined) ?? (code ?? refresh)?.scope);
    const askedHere = allowedAt(rs, ceiling).filter((s) => asked.includes(s));
    if (askedHere.length && !askedHere.some((s) => held.includes(s))) {
      throw refuse(
        'invalid_scope',
        `the person holds none of the requested scopes of ${rs.identifier} (${askedHere.join(' ')}): each needs a role they do not have`,
      );
    }
    return info;
  }
}
