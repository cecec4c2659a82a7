// RFC 7523 §2.1: a service account exchanges a JWT it signed for an access
// token. The assertion is the credential, so every check is strict and every
// refusal says which check failed and, where that leaks nothing, what was
// expected.
import { compactVerify, importJWK, type JWTPayload, type CryptoKey as JoseKey } from 'jose';
import { createHash } from 'node:crypto';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/env.ts';
import type { ArtifactStore } from '../../db/artifact-store.ts';
import { markUsedOnce } from '../../services/secrets/replay-guard.ts';
import type { ResourceServerService } from '../../services/apis/resource-servers.ts';
import { KEY_ALGS, type AccountKey, type ServiceAccountService } from '../../services/machines/service-accounts.ts';
import { decideScopes, splitScope } from '../../services/apis/api-access.ts';
import { findResource, resourceServerInfo } from '../resource-indicators.ts';
import { readUnverified } from './assertion-claims.ts';

export const parameters = ['assertion', 'scope', 'resource'];

const refuse = (description: string, error = 'invalid_grant') => new errors.CustomOIDCProviderError(error, description);

export interface JwtBearerDeps {
  config: Config;
  artifacts: ArtifactStore;
  serviceAccounts: ServiceAccountService;
  resources: ResourceServerService;
}

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

export function buildJwtBearerHandler({ config, artifacts, serviceAccounts, resources }: JwtBearerDeps) {
  const skew = config.clockSkew;
  const tokenEndpoint = `${config.issuer}/token`;

  return async function jwtBearer(ctx: KoaContextWithOIDC): Promise<void> {
    const { client, params, provider } = ctx.oidc;
    if (!client || !params) throw refuse('client authentication failed', 'invalid_client');

    const read = readUnverified(params.assertion);
    if (!read.ok) throw refuse(read.description, params.assertion ? 'invalid_grant' : 'invalid_request');
    const { header, issuer } = read;
    const assertion = params.assertion as string;

    if (issuer !== client.clientId) {
      throw refuse(`assertion iss '${issuer}' does not match the authenticated client '${client.clientId}'`);
    }
    const account = await serviceAccounts.forAssertion(issuer);
    if (!account) throw refuse(`client '${issuer}' is not a service account`, 'unauthorized_client');
    if (account.disabled) throw refuse(`service account '${issuer}' is disabled`, 'invalid_client');

    // Algorithm: fixed by how the account verifies, never by the token alone.
    const alg = header.alg;
    if (!alg || alg.toLowerCase() === 'none') throw refuse("alg 'none' is not accepted: sign the assertion");
    if (header.crit) throw refuse('assertions with a crit header are not accepted');
    let candidates: { key: JoseKey | Uint8Array; label: string }[];
    if (account.sharedSecret !== undefined) {
      if (alg !== 'HS256') throw refuse(`alg ${alg} is not accepted: this service account signs with its shared secret, use HS256`);
      candidates = [{ key: new TextEncoder().encode(account.sharedSecret), label: 'the shared secret' }];
    } else {
      const registered =
        account.keys
          .map((k) => k.alg)
          .filter((a, i, all) => all.indexOf(a) === i)
          .join(', ') || 'none';
      if (!(KEY_ALGS as readonly string[]).includes(alg)) {
        throw refuse(`alg ${alg} is not accepted for this service account; its registered keys use ${registered}`);
      }
      const now = Date.now();
      let keys: AccountKey[];
      if (header.kid !== undefined) {
        const key = account.keys.find((k) => k.kid === header.kid);
        if (!key) throw refuse(`no registered key matches kid '${header.kid}'`);
        if (key.expiresAt && key.expiresAt.getTime() <= now) throw refuse(`key '${key.kid}' expired at ${key.expiresAt.toISOString()}`);
        if (key.alg !== alg) throw refuse(`key '${key.kid}' is registered for ${key.alg}, not ${alg}`);
        keys = [key];
      } else {
        keys = account.keys.filter((k) => k.alg === alg && (!k.expiresAt || k.expiresAt.getTime() > now));
        if (keys.length === 0) throw refuse(`no active ${alg} key is registered for this service account (registered: ${registered})`);
      }
      candidates = await Promise.all(keys.map(async (k) => ({ key: await importCached(k.jwk, alg), label: `key '${k.kid}'` })));
    }

    let payload: JWTPayload | undefined;
    for (const { key } of candidates) {
      try {
        const { payload: bytes } = await compactVerify(assertion, key, { algorithms: [alg] });
        payload = JSON.parse(new TextDecoder().decode(bytes)) as JWTPayload;
        break;
      } catch {
        // try the next active key
      }
    }
    if (!payload || typeof payload !== 'object') {
      throw refuse(`signature verification failed against ${candidates.length === 1 ? candidates[0]!.label : `${candidates.length} registered keys`}`);
    }

    // Claims (RFC 7523 §3: iss and sub are required). Only shared-secret
    // accounts may name themselves with `clientId` instead: that is the partner
    // format of reference API C, signed with a secret only the two sides hold.
    if (payload.iss !== undefined) {
      if (payload.sub === undefined) throw refuse(`sub is required and must equal iss ('${issuer}')`);
      if (payload.sub !== payload.iss) throw refuse(`sub must equal iss ('${issuer}')`);
    } else if (account.sharedSecret === undefined) {
      throw refuse(
        `iss and sub are required: set both to the service account's client_id ('${issuer}'); clientId alone is accepted only from shared-secret (HS256) accounts`,
      );
    } else if (payload.sub !== undefined && payload.sub !== issuer) {
      throw refuse(`sub must equal clientId ('${issuer}')`);
    }
    const aud = audiences(payload);
    if (aud.length === 0) throw refuse(`aud is required: use ${tokenEndpoint}`);
    if (!aud.includes(config.issuer) && !aud.includes(tokenEndpoint)) throw refuse(`aud must be ${tokenEndpoint} or ${config.issuer}`);

    const nowS = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number') throw refuse('exp is required (a NumericDate in seconds)');
    if (nowS > payload.exp + skew) throw refuse(`assertion expired ${nowS - payload.exp} s ago`);
    if (payload.iat !== undefined && typeof payload.iat !== 'number') throw refuse('iat must be a NumericDate in seconds');
    if (typeof payload.iat === 'number' && payload.iat > nowS + skew) {
      throw refuse(`iat is ${payload.iat - nowS} s in the future; at most ${skew} s of clock skew is tolerated`);
    }
    const lifetime = payload.exp - (payload.iat ?? nowS);
    if (lifetime > config.assertionMaxLifetime) {
      throw refuse(`assertion lifetime is ${lifetime} s (exp − iat); at most ${config.assertionMaxLifetime} s is accepted`);
    }
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowS + skew)) {
      throw refuse(
        typeof payload.nbf === 'number' ? `assertion is not valid for another ${payload.nbf - nowS} s (nbf)` : 'nbf must be a NumericDate in seconds',
      );
    }
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) {
      throw refuse('jti is required: a unique identifier (at most 256 characters) for each assertion');
    }

    // Scope and audience: only what the account was granted, and only at a
    // resource that defines some of it (src/services/apis/api-access.ts).
    const ceiling = splitScope(account.metadata.scope);
    const requestedScope = splitScope(typeof params.scope === 'string' ? params.scope : undefined);
    for (const s of requestedScope) {
      if (!ceiling.includes(s)) throw refuse(`scope '${s}' is not allowed for this service account; allowed: ${ceiling.join(' ')}`, 'invalid_scope');
    }
    if (Array.isArray(params.resource)) throw refuse('only one resource may be requested with this grant', 'invalid_target');
    const resource = (params.resource as string | undefined) ?? config.defaultResource;
    // API scopes mean something at an API only: a token carrying them names it as its audience.
    if (!resource) throw refuse('resource is required: the identifier of the API the token is for (or set DEFAULT_RESOURCE)', 'invalid_target');
    const rs = await findResource(resources, resource);
    const decision = decideScopes({
      who: `service account '${issuer}'`,
      resource: rs,
      ceiling,
      requested: requestedScope,
      defaults: splitScope(account.metadata.default_scope),
      strict: true,
    });
    if (!decision.ok) throw refuse(decision.description, decision.error);
    const resourceServer = new provider.ResourceServer(resource, resourceServerInfo(rs, ceiling));

    // Last, so that only a fully valid assertion uses up its jti.
    if (!(await markUsedOnce(artifacts, issuer, payload.jti, new Date((payload.exp + skew) * 1000)))) {
      throw refuse(`jti '${payload.jti}' was already used; every assertion needs a new jti`);
    }

    const token = new provider.ClientCredentials({ client, scope: decision.scopes.join(' ') });
    token.resourceServer = resourceServer;
    ctx.oidc.entity('ClientCredentials', token);
    const value = await token.save();
    ctx.body = {
      access_token: value,
      token_type: 'Bearer',
      expires_in: token.expiration,
      ...(token.scope ? { scope: token.scope } : {}),
    };
  };
}
