// Service accounts: clients without people or redirect URIs that get tokens
// by signing an assertion (RFC 7523 jwt-bearer) or with client credentials.
// They own public keys (several at once, for rollover) or, for HS256
// assertions, a shared secret that is shown once and stored encrypted.
import { randomBytes, randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { jwkThumbprint, keyPairJwks, newKeyPair } from '../secrets/key-pairs.ts';
import type { Db } from '../../db/database.ts';
import { invalidInput, notFound, conflict } from '../../errors.ts';
import { isReservedClientId } from './built-in-clients.ts';
import { checkScope } from '../apis/scope-names.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { configCache, type ChangeTracker } from './config-cache.ts';
import { keyset, toPage, type Page, type PageRequest } from '../admin/pagination.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { deleteClientArtifacts } from '../../db/owned-artifacts.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const SERVICE_ACCOUNT = 'service_account';
/** Default longest lifetime of a partner's self-signed token (15 minutes, as reference API C issues them). */
export const SELF_SIGNED_MAX_LIFETIME = 900;
/** An imported shared secret must be at least this long (an HS256 key of a partner's choosing). */
export const MIN_IMPORTED_SECRET = 20;
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const KEY_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export const GENERATED_KEY_ALGS = ['ES256', 'RS256', 'EdDSA'] as const;
export type KeyAlg = (typeof KEY_ALGS)[number];
export type ServiceGrant = typeof JWT_BEARER | 'client_credentials';

export interface ServiceAccountMetadata {
  grant_types: ServiceGrant[];
  scope: string;
  default_scope: string;
  token_endpoint_auth_method: 'private_key_jwt' | 'none';
  redirect_uris: [];
  response_types: [];
  /**
   * Partner tokens (the model of reference API C): the account's partner signs
   * `{clientId, iat, exp}` with the shared secret and sends that JWT to the API
   * as a bearer token; the API introspects it. Longest accepted exp − iat, seconds.
   */
  self_signed_tokens?: { max_lifetime: number };
}

export interface AccountKey {
  kid: string;
  alg: KeyAlg;
  jwk: JWK;
  expiresAt: Date | null;
}

export interface ServiceAccountView {
  clientId: string;
  name: string;
  disabled: boolean;
  metadata: ServiceAccountMetadata;
  keys: AccountKey[];
  hasSharedSecret: boolean;
  createdAt: Date;
}

const sharedSecretPurpose = (clientId: string) => `shared-secret:${clientId}`;
export const previousSharedSecretPurpose = (clientId: string) => `shared-secret:previous:${clientId}`;
/** Longest a replaced shared secret may keep working after a rotation (as for client secrets). */
export const MAX_SHARED_SECRET_OVERLAP = 30 * 86_400;

/** What verifies an account's HS256 signatures: the shared secret and, until it expires, the one a rotation replaced. */
export function sharedSecretsOf(account: { sharedSecret?: string; previousSharedSecret?: { secret: string; expiresAt: Date } }, now: number): string[] {
  if (account.sharedSecret === undefined) return [];
  const previous = account.previousSharedSecret;
  return previous && previous.expiresAt.getTime() > now ? [account.sharedSecret, previous.secret] : [account.sharedSecret];
}

const PUBLIC_MEMBERS: Record<string, string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Checks a registered key and keeps only its public members. */
export async function normalizePublicJwk(input: JWK): Promise<{ kid: string; alg: KeyAlg; jwk: JWK }> {
  const label = input.kid ? `key '${input.kid}'` : 'a key without kid';
  if (PRIVATE_MEMBERS.some((m) => m in input)) {
    throw invalidInput(`${label} contains private or symmetric key material; register the public key only`);
  }
  if (input.use && input.use !== 'sig') throw invalidInput(`${label} has use '${input.use}'; only signing keys ('sig') can be registered`);
  let alg: KeyAlg;
  switch (input.kty) {
    case 'RSA': {
      const bits = Buffer.from(String(input.n ?? ''), 'base64url').length * 8;
      if (bits < 2048) throw invalidInput(`${label} is a ${bits}-bit RSA key; at least 2048 bits are required`);
      alg = (input.alg ?? 'RS256') as KeyAlg;
      if (alg !== 'RS256' && alg !== 'PS256') throw invalidInput(`${label}: alg ${input.alg} does not fit an RSA key (RS256 or PS256)`);
      break;
    }
    case 'EC':
      if (input.crv !== 'P-256') throw invalidInput(`${label}: only the P-256 curve is supported for EC keys`);
      alg = (input.alg ?? 'ES256') as KeyAlg;
      if (alg !== 'ES256') throw invalidInput(`${label}: alg ${input.alg} does not fit a P-256 key (ES256)`);
      break;
    case 'OKP':
      if (input.crv !== 'Ed25519') throw invalidInput(`${label}: only the Ed25519 curve is supported for OKP keys`);
      alg = 'EdDSA';
      if (input.alg && input.alg !== 'EdDSA' && input.alg !== 'Ed25519') throw invalidInput(`${label}: alg ${input.alg} does not fit an Ed25519 key (EdDSA)`);
      break;
    default:
      throw invalidInput(`${label} has unsupported kty '${input.kty}'; use RSA, EC (P-256) or OKP (Ed25519)`);
  }
  const pub: JWK = { kty: input.kty };
  for (const m of PUBLIC_MEMBERS[input.kty]!) {
    const v = (input as Record<string, unknown>)[m];
    if (typeof v !== 'string' || !v) throw invalidInput(`${label} is missing its '${m}' member`);
    (pub as Record<string, unknown>)[m] = v;
  }
  const kid = input.kid ?? (await jwkThumbprint(pub));
  if (!/^[\x21-\x7E]{1,128}$/.test(kid)) throw invalidInput(`kid '${kid}' must be 1–128 printable characters`);
  return { kid, alg, jwk: { ...pub, kid, alg, use: 'sig' } };
}

/** Accepts a JWKS (`{"keys": [...]}`) or a single JWK. */
export function parseJwksText(text: string, source: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidInput(`${source} is not valid JSON`);
  }
  const keys = (parsed as { keys?: unknown })?.keys ?? [parsed];
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => !k || typeof k !== 'object')) {
    throw invalidInput(`${source} must hold a JWK or a JWKS with at least one key`);
  }
  return keys as JWK[];
}

export async function generateAccountKey(alg: (typeof GENERATED_KEY_ALGS)[number]): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateJwk, publicJwk } = await keyPairJwks(await newKeyPair(alg), alg);
  return { privateJwk, publicJwk };
}

export function createServiceAccountService(db: Db, box: SecretBox, changes: ChangeTracker, now: () => number = Date.now) {
  // Everything the jwt-bearer grant needs, decrypted once per change of any client.
  const forAssertion = configCache(
    changes,
    'clients',
    async (clientId): Promise<(ServiceAccountView & { sharedSecret?: string; previousSharedSecret?: { secret: string; expiresAt: Date } }) | undefined> => {
      const row = await getRow(clientId);
      if (!row) return undefined;
      return {
        ...toView(row),
        sharedSecret: row.sharedSecretEnc ? box.open(row.sharedSecretEnc, sharedSecretPurpose(row.id)) : undefined,
        ...(row.previousSharedSecretEnc && row.previousSharedSecretExpiresAt
          ? {
              previousSharedSecret: {
                secret: box.open(row.previousSharedSecretEnc, previousSharedSecretPurpose(row.id)),
                expiresAt: row.previousSharedSecretExpiresAt,
              },
            }
          : {}),
      };
    },
  );

  async function getRow(clientId: string) {
    const row = await db.client.findUnique({ where: { id: clientId }, include: { keys: { orderBy: { createdAt: 'asc' } } } });
    if (!row || row.kind !== SERVICE_ACCOUNT) return undefined;
    return row;
  }

  function toView(row: NonNullable<Awaited<ReturnType<typeof getRow>>>): ServiceAccountView {
    return {
      clientId: row.id,
      name: row.name,
      disabled: row.disabled,
      metadata: JSON.parse(row.metadata),
      keys: row.keys.map((k) => ({ kid: k.kid, alg: k.alg as KeyAlg, jwk: JSON.parse(k.publicJwk), expiresAt: k.expiresAt })),
      hasSharedSecret: row.sharedSecretEnc !== null,
      createdAt: row.createdAt,
    };
  }

  async function insertKeys(clientId: string, keys: JWK[], expiresAt: Date | null) {
    const normalized = await Promise.all(keys.map(normalizePublicJwk));
    const kids = normalized.map((k) => k.kid);
    if (new Set(kids).size !== kids.length) throw invalidInput('the key set has duplicate kids');
    try {
      await db.$transaction(
        normalized.map((k) =>
          db.clientKey.create({
            data: { id: randomUUID(), clientId, kid: k.kid, alg: k.alg, publicJwk: JSON.stringify(k.jwk), expiresAt },
          }),
        ),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`a key with one of the kids ${kids.join(', ')} is already registered`);
      throw err;
    }
    return kids;
  }

  return {
    async create(input: {
      name: string;
      scope: string;
      defaultScope?: string;
      grants?: ServiceGrant[];
      jwks?: JWK[];
      generateKey?: (typeof GENERATED_KEY_ALGS)[number];
      sharedSecret?: boolean;
      /** Import this shared secret (a partner's existing one) instead of generating one. */
      importedSecret?: string;
      /** Keep the partner's existing client id (its tokens name it) instead of generating one. */
      clientId?: string;
      /** Accept the partner's self-signed tokens at introspection, up to this lifetime (seconds). */
      selfSignedMaxLifetime?: number;
      keyExpiresAt?: Date;
    }): Promise<{ account: ServiceAccountView; privateJwk?: JWK; sharedSecret?: string }> {
      const name = input.name.trim();
      if (!name) throw invalidInput('service account name must not be empty');
      if (input.importedSecret !== undefined) {
        if (input.importedSecret.length < MIN_IMPORTED_SECRET)
          throw invalidInput(`an imported shared secret must be at least ${MIN_IMPORTED_SECRET} characters`);
        input = { ...input, sharedSecret: true };
      }
      if (input.clientId !== undefined && !CLIENT_ID.test(input.clientId)) {
        throw invalidInput('--client-id must be 1–128 letters, digits, dots, dashes or underscores, starting with a letter or digit');
      }
      if (input.clientId !== undefined && isReservedClientId(input.clientId)) {
        throw invalidInput(`client id ${input.clientId} is reserved: ids starting with "latchkey-" belong to Latchkey's built-in clients; choose another`);
      }
      const selfSigned = input.selfSignedMaxLifetime;
      if (selfSigned !== undefined) {
        if (!input.sharedSecret)
          throw invalidInput('self-signed tokens are signed with the shared secret: use them with --shared-secret or --shared-secret-stdin');
        if (!Number.isInteger(selfSigned) || selfSigned < 60 || selfSigned > 86400)
          throw invalidInput("the self-signed tokens' maximum lifetime must be 60 to 86400 seconds");
      }
      const credentials = [input.jwks ? 1 : 0, input.generateKey ? 1 : 0, input.sharedSecret ? 1 : 0].reduce((a, b) => a + b, 0);
      if (credentials !== 1) throw invalidInput('give exactly one of --jwks-file, --generate-key or --shared-secret');
      const scope = checkScope(input.scope);
      const defaultScope = input.defaultScope ? checkScope(input.defaultScope) : scope;
      const allowed = new Set(scope.split(' '));
      for (const s of defaultScope.split(' ')) if (!allowed.has(s)) throw invalidInput(`default scope '${s}' is not in the allowed scopes`);
      // A shared secret can only sign assertions: client credentials would need the
      // secret as a client secret, which we keep only as a hash for apps.
      const grants = input.grants ?? (input.sharedSecret ? [JWT_BEARER] : [JWT_BEARER, 'client_credentials']);
      if (input.sharedSecret && grants.includes('client_credentials')) {
        throw invalidInput('a shared-secret service account can use the jwt-bearer grant only; register a key for client_credentials');
      }
      const metadata: ServiceAccountMetadata = {
        grant_types: grants,
        scope,
        default_scope: defaultScope,
        token_endpoint_auth_method: input.sharedSecret ? 'none' : 'private_key_jwt',
        redirect_uris: [],
        response_types: [],
        ...(selfSigned !== undefined ? { self_signed_tokens: { max_lifetime: selfSigned } } : {}),
      };
      const clientId = input.clientId ?? `sa_${randomBytes(12).toString('base64url')}`;
      const sharedSecret = input.importedSecret ?? (input.sharedSecret ? randomBytes(32).toString('base64url') : undefined);
      if (input.clientId !== undefined && (await db.client.findUnique({ where: { id: clientId }, select: { id: true } }))) {
        throw conflict(`client id ${clientId} is already taken`);
      }
      const generated = input.generateKey ? await generateAccountKey(input.generateKey) : undefined;
      await db.client.create({
        data: {
          id: clientId,
          kind: SERVICE_ACCOUNT,
          name,
          metadata: JSON.stringify(metadata),
          sharedSecretEnc: sharedSecret ? box.seal(sharedSecret, sharedSecretPurpose(clientId)) : null,
        },
      });
      try {
        const keys = generated ? [generated.publicJwk] : input.jwks;
        if (keys) await insertKeys(clientId, keys, input.keyExpiresAt ?? null);
      } catch (err) {
        await db.client.delete({ where: { id: clientId } });
        throw err;
      }
      await changes.changed('clients');
      // An imported secret is the partner's already: it is not shown back.
      return { account: toView((await getRow(clientId))!), privateJwk: generated?.privateJwk, sharedSecret: input.importedSecret ? undefined : sharedSecret };
    },

    async get(clientId: string): Promise<ServiceAccountView> {
      const row = await getRow(clientId);
      if (!row) throw notFound(`service account ${clientId}`);
      return toView(row);
    },

    /** Everything the jwt-bearer grant needs (keys past their expiry included: the grant checks); undefined when unknown. */
    forAssertion,

    async list(): Promise<ServiceAccountView[]> {
      const rows = await db.client.findMany({ where: { kind: SERVICE_ACCOUNT }, include: { keys: true }, orderBy: { createdAt: 'asc' } });
      return rows.map(toView);
    },

    async page(req: PageRequest = {}): Promise<Page<ServiceAccountView>> {
      const k = keyset('createdAt', req);
      const rows = await db.client.findMany({
        where: { AND: [{ kind: SERVICE_ACCOUNT }, k.where] },
        include: { keys: { orderBy: { createdAt: 'asc' } } },
        orderBy: k.orderBy,
        take: k.take,
      });
      return toPage(rows, k.take, (r) => ({ at: r.createdAt, id: r.id }), toView);
    },

    /**
     * Whether the account exists and is enabled, read from the database (not
     * the node's cache): a disabled account is refused on every node at once.
     */
    async isEnabled(clientId: string): Promise<boolean> {
      const row = await db.client.findUnique({ where: { id: clientId }, select: { kind: true, disabled: true } });
      return row?.kind === SERVICE_ACCOUNT && !row.disabled;
    },

    async addKeys(clientId: string, keys: JWK[], expiresAt?: Date): Promise<string[]> {
      const account = await this.get(clientId);
      if (account.hasSharedSecret) throw invalidInput(`service account ${clientId} signs with a shared secret; it has no keys`);
      const kids = await insertKeys(clientId, keys, expiresAt ?? null);
      await changes.changed('clients');
      return kids;
    },

    /**
     * When one key stops working (a rollover's end, or at once for a key that
     * leaked): the jwt-bearer grant refuses its signatures from then on. The
     * key stays listed until removed, so that the refusal names it.
     */
    async setKeyExpiry(clientId: string, kid: string, expiresAt: Date): Promise<void> {
      await this.get(clientId);
      const { count } = await db.clientKey.updateMany({ where: { clientId, kid }, data: { expiresAt } });
      if (count === 0) throw notFound(`key '${kid}' of service account ${clientId}`);
      await changes.changed('clients');
    },

    async removeKey(clientId: string, kid: string): Promise<void> {
      await this.get(clientId);
      const { count } = await db.clientKey.deleteMany({ where: { clientId, kid } });
      if (count === 0) throw notFound(`key '${kid}' of service account ${clientId}`);
      await changes.changed('clients');
    },

    /**
     * A new shared secret (generated, or the partner's new one) that works at
     * once; the current one keeps working for `overlapSeconds` (0: not at all)
     * for assertions and self-signed tokens, so that the partner can switch
     * without an outage. A secret replaced earlier and still in its overlap
     * stops working now: at most two at a time.
     */
    async rotateSharedSecret(
      clientId: string,
      overlapSeconds: number,
      newSecret?: string,
    ): Promise<{ account: ServiceAccountView; sharedSecret?: string; previousExpiresAt: Date | null }> {
      if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_SHARED_SECRET_OVERLAP) {
        throw invalidInput(`overlap must be a whole number of seconds from 0 to ${MAX_SHARED_SECRET_OVERLAP}`);
      }
      if (newSecret !== undefined && newSecret.length < MIN_IMPORTED_SECRET)
        throw invalidInput(`a shared secret must be at least ${MIN_IMPORTED_SECRET} characters`);
      const row = await getRow(clientId);
      if (!row) throw notFound(`service account ${clientId}`);
      if (!row.sharedSecretEnc) throw conflict(`service account ${clientId} signs with keys, not a shared secret: roll its keys with add-key and remove-key`);
      const current = box.open(row.sharedSecretEnc, sharedSecretPurpose(clientId));
      const secret = newSecret ?? randomBytes(32).toString('base64url');
      if (secret === current) throw invalidInput('the new shared secret is the current one');
      const previousExpiresAt = overlapSeconds > 0 ? new Date(now() + overlapSeconds * 1000) : null;
      // Conditional on the secret still being the one read: of two rotations racing, one wins.
      const { count } = await db.client.updateMany({
        where: { id: clientId, sharedSecretEnc: row.sharedSecretEnc },
        data: {
          sharedSecretEnc: box.seal(secret, sharedSecretPurpose(clientId)),
          previousSharedSecretEnc: previousExpiresAt ? box.seal(current, previousSharedSecretPurpose(clientId)) : null,
          previousSharedSecretExpiresAt: previousExpiresAt,
        },
      });
      if (count !== 1) throw conflict(`service account ${clientId}'s secret changed meanwhile; try again`);
      await changes.changed('clients');
      return { account: toView((await getRow(clientId))!), sharedSecret: newSecret === undefined ? secret : undefined, previousExpiresAt };
    },

    /** The secrets that verify the account's HS256 signatures now (by this service's clock, which tests move). */
    verifyingSecrets: (account: Parameters<typeof sharedSecretsOf>[0]) => sharedSecretsOf(account, now()),

    /** Deletes the account with its keys, API keys and stored tokens (configuration files' --prune). */
    async delete(clientId: string): Promise<void> {
      // An unknown id, or an app's, is refused before anything is removed (its tokens included).
      if (!(await getRow(clientId))) throw notFound(`service account ${clientId}`);
      const [{ count }] = await db.$transaction([
        db.client.deleteMany({ where: { id: clientId, kind: SERVICE_ACCOUNT } }),
        ...deleteClientArtifacts(db, clientId),
      ]);
      if (count === 0) throw notFound(`service account ${clientId}`);
      await changes.changed('clients');
    },

    /**
     * Changes what an account may do (configuration files): scopes, default
     * scope, grants, self-signed tokens; by the rules of `create`. Tokens
     * already issued keep what they got until they expire.
     */
    async updateAccess(
      clientId: string,
      input: { scope: string; defaultScope?: string; grants?: ServiceGrant[]; selfSignedMaxLifetime?: number | null },
    ): Promise<ServiceAccountView> {
      const row = await getRow(clientId);
      if (!row) throw notFound(`service account ${clientId}`);
      const shared = Boolean(row.sharedSecretEnc);
      const scope = checkScope(input.scope);
      const defaultScope = input.defaultScope ? checkScope(input.defaultScope) : scope;
      const allowed = new Set(scope.split(' '));
      for (const s of defaultScope.split(' ')) if (!allowed.has(s)) throw invalidInput(`default scope '${s}' is not in the allowed scopes`);
      const grants = input.grants ?? (shared ? [JWT_BEARER] : [JWT_BEARER, 'client_credentials']);
      if (shared && grants.includes('client_credentials'))
        throw invalidInput('a shared-secret service account can use the jwt-bearer grant only; register a key for client_credentials');
      const selfSigned = input.selfSignedMaxLifetime ?? undefined;
      if (selfSigned !== undefined) {
        if (!shared) throw invalidInput('self-signed tokens are signed with the shared secret: only a shared-secret account can accept them');
        if (!Number.isInteger(selfSigned) || selfSigned < 60 || selfSigned > 86400)
          throw invalidInput("the self-signed tokens' maximum lifetime must be 60 to 86400 seconds");
      }
      const current = JSON.parse(row.metadata) as ServiceAccountMetadata;
      const { self_signed_tokens: _old, ...rest } = current;
      const metadata: ServiceAccountMetadata = {
        ...rest,
        grant_types: grants,
        scope,
        default_scope: defaultScope,
        ...(selfSigned !== undefined ? { self_signed_tokens: { max_lifetime: selfSigned } } : {}),
      };
      await db.client.update({ where: { id: clientId }, data: { metadata: JSON.stringify(metadata) } });
      await changes.changed('clients');
      return toView((await getRow(clientId))!);
    },

    /** Disabling also revokes the account's stored (opaque) tokens; its JWT access tokens live out their lifetime. */
    async setDisabled(clientId: string, disabled: boolean): Promise<void> {
      // An app's id would otherwise have its API keys flagged and its tokens removed before the refusal.
      if (!(await getRow(clientId))) throw notFound(`service account ${clientId}`);
      const [{ count }] = await db.$transaction([
        db.client.updateMany({ where: { id: clientId, kind: SERVICE_ACCOUNT }, data: { disabled } }),
        db.apiKey.updateMany({ where: { clientId }, data: { ownerDisabled: disabled } }),
        ...(disabled ? [...deleteClientArtifacts(db, clientId)] : []),
      ]);
      if (count === 0) throw notFound(`service account ${clientId}`);
      await changes.changed('clients');
    },
  };
}

export type ServiceAccountService = ReturnType<typeof createServiceAccountService>;
