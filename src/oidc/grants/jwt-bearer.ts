// RFC 7523 §2.1: a service account exchanges a JWT it signed for an access
// token. The assertion is the credential, so every check is strict and every
// refusal says which check failed and, where that leaks nothing, what was
// expected.
import { compactVerify, importJWK, type JWTPayload, type ProtectedHeaderParameters, type CryptoKey as JoseKey } from 'jose';
import { createHash } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/env.ts';
import type { ArtifactStore } from '../../db/artifact-store.ts';
import { markUsedOnce } from '../../services/secrets/replay-guard.ts';
import type { ResourceServerService } from '../../services/apis/resource-servers.ts';
import { KEY_ALGS, type AccountKey, type ServiceAccountService } from '../../services/machines/service-accounts.ts';
import { decideScopes, splitScope } from '../../services/apis/api-access.ts';
import { answeredByProvider, refuse } from '../oauth-errors.ts';
import { findResource, resourceServerInfo } from '../resource-indicators.ts';
import { readUnverified } from './assertion-claims.ts';

export const parameters = ['assertion', 'scope', 'resource'];

/** Most refusals of this grant: the assertion is the credential, and this check of it failed. */
const invalidGrant = (description: string) => refuse('invalid_grant', description);

export interface JwtBearerDeps {
  config: Config;
  artifacts: ArtifactStore;
  serviceAccounts: ServiceAccountService;
  resources: ResourceServerService;
}

type Account = NonNullable<Awaited<ReturnType<ServiceAccountService['forAssertion']>>>;
type Candidate = { key: JoseKey | Uint8Array; label: string };

// Imported public keys, by the hash of their JWK: no key parsing per request
// once a key has been seen. Bounded; a removed key simply stops being looked up.
const keyCache = new Map<string, JoseKey | Uint8Array>();
async function importCached(jwk: AccountKey['jwk'], alg: string) {
  const id = createHash('sha256').update(alg).update(JSON.stringify(jwk)).digest('base64url');
  let key = keyCache.get(id);
  if (!key) {
    key = await importJWK(jwk, alg);
    if (keyCache.size >= 1000) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, key);
  }
  return key;
}

function audiences(payload: JWTPayload): string[] {
  if (typeof payload.aud === 'string') return [payload.aud];
  return Array.isArray(payload.aud) ? payload.aud.filter((a): a is string => typeof a === 'string') : [];
}

/**
 * The grant, as oidc-provider's own grants read: one named step per check,
 * each refusing with the reason (src/oidc/oauth-errors.ts answers it).
 */
export function buildJwtBearerHandler({ config, artifacts, serviceAccounts, resources }: JwtBearerDeps) {
  const skew = config.clockSkew;
  const tokenEndpoint = `${config.issuer}/token`;

  return answeredByProvider(async function jwtBearer(ctx: KoaContextWithOIDC): Promise<void> {
    const { client, params, provider } = ctx.oidc;
    if (!client || !params) throw refuse('invalid_client', 'client authentication failed');
    const { header, issuer, assertion } = readAssertion(params, client.clientId);
    const account = await serviceAccountOf(issuer);
    const { alg, candidates } = await verificationKeys(account, header);
    const payload = await verifySignature(assertion, alg, candidates);
    checkSubject(payload, account, issuer);
    checkAudience(payload);
    checkTimes(payload);
    const jti = checkJti(payload);
    const { scopes, resource, info } = await decideScopesAndResource(account, issuer, params);
    // Last, so that only a fully valid assertion uses up its jti.
    if (!(await markUsedOnce(artifacts, issuer, jti, new Date((payload.exp! + skew) * 1000)))) {
      throw invalidGrant(`jti '${jti}' was already used; every assertion needs a new jti`);
    }
    const token = new provider.ClientCredentials({ client, scope: scopes.join(' ') });
    token.resourceServer = new provider.ResourceServer(resource, info);
    ctx.oidc.entity('ClientCredentials', token);
    const value = await token.save();
    ctx.body = {
      access_token: value,
      token_type: 'Bearer',
      expires_in: token.expiration,
      ...(token.scope ? { scope: token.scope } : {}),
    };
  });

  /** The assertion as sent, and who claims to have signed it: the authenticated client. */
  function readAssertion(params: NonNullable<KoaContextWithOIDC['oidc']['params']>, clientId: string) {
    const read = readUnverified(params.assertion);
    if (!read.ok) throw refuse(params.assertion ? 'invalid_grant' : 'invalid_request', read.description);
    if (read.issuer !== clientId) {
      throw invalidGrant(`assertion iss '${read.issuer}' does not match the authenticated client '${clientId}'`);
    }
    return { header: read.header, issuer: read.issuer, assertion: params.assertion as string };
  }

  async function serviceAccountOf(issuer: string): Promise<Account> {
    const account = await serviceAccounts.forAssertion(issuer);
    if (!account) throw refuse('unauthorized_client', `client '${issuer}' is not a service account`);
    if (account.disabled) throw refuse('invalid_client', `service account '${issuer}' is disabled`);
    return account;
  }

  /** The keys the assertion may be signed with. The algorithm is fixed by how the account verifies, never by the token alone. */
  async function verificationKeys(account: Account, header: ProtectedHeaderParameters): Promise<{ alg: string; candidates: Candidate[] }> {
    const alg = header.alg;
    if (!alg || alg.toLowerCase() === 'none') throw invalidGrant("alg 'none' is not accepted: sign the assertion");
    if (header.crit) throw invalidGrant('assertions with a crit header are not accepted');
    if (account.sharedSecret !== undefined) {
      if (alg !== 'HS256') throw invalidGrant(`alg ${alg} is not accepted: this service account signs with its shared secret, use HS256`);
      // During a rotation's overlap the replaced secret still verifies (service-account rotate-secret).
      const candidates = serviceAccounts.verifyingSecrets(account).map((secret, i) => ({
        key: new TextEncoder().encode(secret),
        label: i === 0 ? 'the shared secret' : 'the shared secret (or the one it replaced)',
      }));
      return { alg, candidates };
    }
    const registered =
      account.keys
        .map((k) => k.alg)
        .filter((a, i, all) => all.indexOf(a) === i)
        .join(', ') || 'none';
    if (!(KEY_ALGS as readonly string[]).includes(alg)) {
      throw invalidGrant(`alg ${alg} is not accepted for this service account; its registered keys use ${registered}`);
    }
    const keys = header.kid !== undefined ? [namedKey(account, header.kid, alg)] : activeKeys(account, alg, registered);
    return { alg, candidates: await Promise.all(keys.map(async (k) => ({ key: await importCached(k.jwk, alg), label: `key '${k.kid}'` }))) };
  }

  function namedKey(account: Account, kid: string, alg: string): AccountKey {
    const key = account.keys.find((k) => k.kid === kid);
    if (!key) throw invalidGrant(`no registered key matches kid '${kid}'`);
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw invalidGrant(`key '${key.kid}' expired at ${key.expiresAt.toISOString()}`);
    if (key.alg !== alg) throw invalidGrant(`key '${key.kid}' is registered for ${key.alg}, not ${alg}`);
    return key;
  }

  function activeKeys(account: Account, alg: string, registered: string): AccountKey[] {
    const now = Date.now();
    const keys = account.keys.filter((k) => k.alg === alg && (!k.expiresAt || k.expiresAt.getTime() > now));
    if (keys.length === 0) throw invalidGrant(`no active ${alg} key is registered for this service account (registered: ${registered})`);
    return keys;
  }

  async function verifySignature(assertion: string, alg: string, candidates: Candidate[]): Promise<JWTPayload> {
    for (const { key } of candidates) {
      try {
        const { payload } = await compactVerify(assertion, key, { algorithms: [alg] });
        const claims = JSON.parse(new TextDecoder().decode(payload)) as JWTPayload;
        if (claims && typeof claims === 'object') return claims;
        break;
      } catch {
        // try the next active key
      }
    }
    throw invalidGrant(`signature verification failed against ${candidates.length === 1 ? candidates[0]!.label : `${candidates.length} registered keys`}`);
  }

  /**
   * RFC 7523 §3: iss and sub are required. Only shared-secret accounts may
   * name themselves with `clientId` instead: that is the partner format of
   * reference API C, signed with a secret only the two sides hold.
   */
  function checkSubject(payload: JWTPayload, account: Account, issuer: string): void {
    if (payload.iss !== undefined) {
      if (payload.sub === undefined) throw invalidGrant(`sub is required and must equal iss ('${issuer}')`);
      if (payload.sub !== payload.iss) throw invalidGrant(`sub must equal iss ('${issuer}')`);
    } else if (account.sharedSecret === undefined) {
      throw invalidGrant(
        `iss and sub are required: set both to the service account's client_id ('${issuer}'); ` +
          'clientId alone is accepted only from shared-secret (HS256) accounts',
      );
    } else if (payload.sub !== undefined && payload.sub !== issuer) {
      throw invalidGrant(`sub must equal clientId ('${issuer}')`);
    }
  }

  function checkAudience(payload: JWTPayload): void {
    const aud = audiences(payload);
    if (aud.length === 0) throw invalidGrant(`aud is required: use ${tokenEndpoint}`);
    if (!aud.includes(config.issuer) && !aud.includes(tokenEndpoint)) throw invalidGrant(`aud must be ${tokenEndpoint} or ${config.issuer}`);
  }

  function checkTimes(payload: JWTPayload): void {
    const nowS = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number') throw invalidGrant('exp is required (a NumericDate in seconds)');
    if (nowS > payload.exp + skew) throw invalidGrant(`assertion expired ${nowS - payload.exp} s ago`);
    if (payload.iat !== undefined && typeof payload.iat !== 'number') throw invalidGrant('iat must be a NumericDate in seconds');
    if (typeof payload.iat === 'number' && payload.iat > nowS + skew) {
      throw invalidGrant(`iat is ${payload.iat - nowS} s in the future; at most ${skew} s of clock skew is tolerated`);
    }
    const lifetime = payload.exp - (payload.iat ?? nowS);
    if (lifetime > config.assertionMaxLifetime) {
      throw invalidGrant(`assertion lifetime is ${lifetime} s (exp − iat); at most ${config.assertionMaxLifetime} s is accepted`);
    }
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowS + skew)) {
      throw invalidGrant(
        typeof payload.nbf === 'number' ? `assertion is not valid for another ${payload.nbf - nowS} s (nbf)` : 'nbf must be a NumericDate in seconds',
      );
    }
  }

  function checkJti(payload: JWTPayload): string {
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) {
      throw invalidGrant('jti is required: a unique identifier (at most 256 characters) for each assertion');
    }
    return payload.jti;
  }

  /**
   * Scope and audience: only what the account was granted, and only at a
   * resource that defines some of it (src/services/apis/api-access.ts). API
   * scopes mean something at an API only: a token carrying them names it as
   * its audience.
   */
  async function decideScopesAndResource(account: Account, issuer: string, params: NonNullable<KoaContextWithOIDC['oidc']['params']>) {
    const ceiling = splitScope(account.metadata.scope);
    const requested = splitScope(typeof params.scope === 'string' ? params.scope : undefined);
    for (const s of requested) {
      if (!ceiling.includes(s)) throw refuse('invalid_scope', `scope '${s}' is not allowed for this service account; allowed: ${ceiling.join(' ')}`);
    }
    if (Array.isArray(params.resource)) throw refuse('invalid_target', 'only one resource may be requested with this grant');
    const resource = (params.resource as string | undefined) ?? config.defaultResource;
    if (!resource) throw refuse('invalid_target', 'resource is required: the identifier of the API the token is for (or set DEFAULT_RESOURCE)');
    const rs = await findResource(resources, resource);
    const decision = decideScopes({
      who: `service account '${issuer}'`,
      resource: rs,
      ceiling,
      requested,
      defaults: splitScope(account.metadata.default_scope),
      strict: true,
    });
    if (!decision.ok) throw refuse(decision.error, decision.description);
    return { scopes: decision.scopes, resource, info: resourceServerInfo(rs, ceiling) };
  }
}
