// oidc-provider's storage contract on Prisma. Every model except `Client`
// shares one table keyed by (type, id); clients come from their own table.
//
// `consume` is a conditional update (`... WHERE consumed_at IS NULL`): of two
// concurrent requests presenting the same code or refresh token, exactly one
// changes the row, and the other is refused with invalid_grant instead of
// both being answered with tokens.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../db/database.ts';
import type { ClientService } from '../services/clients.ts';
import { JWT_BEARER, SERVICE_ACCOUNT, type ServiceAccountMetadata } from '../services/service-accounts.ts';
import { assertionAuthenticated } from './grants/assertion-auth.ts';
import { ACCOUNT_CLIENT_ID, accountClientMetadata } from './account-session.ts';
import { API_SCOPE, DEFAULT_API_SCOPE } from './resource-indicators.ts';
import { RESOURCE_SERVERS } from './introspection-policy.ts';

/**
 * How oidc-provider sees a service account. Its API scopes are not OIDC
 * scopes, so they travel as extra metadata rather than `scope`. When a
 * jwt-bearer request arrives with no client authentication, the assertion is
 * the credential (RFC 7523 §3.1): for that request only the account appears
 * as a `none` client allowed nothing but that grant, and the grant handler's
 * signature check authenticates it.
 */
function serviceAccountView(
  row: { clientId: string; name: string; metadata: Record<string, unknown>; keys: Record<string, unknown>[] },
  assertionOnly: boolean,
): AdapterPayload {
  const meta = row.metadata as unknown as ServiceAccountMetadata;
  const base = {
    client_id: row.clientId,
    client_name: row.name,
    redirect_uris: [],
    response_types: [],
    [API_SCOPE]: meta.scope,
    [DEFAULT_API_SCOPE]: meta.default_scope,
  };
  if (assertionOnly || meta.token_endpoint_auth_method === 'none') {
    return { ...base, grant_types: meta.grant_types.filter((g) => g === JWT_BEARER), token_endpoint_auth_method: 'none' } as AdapterPayload;
  }
  return { ...base, grant_types: meta.grant_types, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: row.keys } } as AdapterPayload;
}

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

export class AlreadyConsumed extends errors.InvalidGrant {
  constructor(model: string) {
    super(`${model} already consumed`);
  }
}

export interface AdapterDeps {
  db: Db;
  clients: ClientService;
  issuer: string;
}

export function createAdapterClass({ db, clients, issuer }: AdapterDeps) {
  class ClientAdapter implements Adapter {
    async find(id: string): Promise<AdapterPayload | undefined> {
      if (id === ACCOUNT_CLIENT_ID) return accountClientMetadata(issuer) as AdapterPayload;
      const row = await clients.findForProvider(id);
      if (!row) return undefined;
      if (row.kind === SERVICE_ACCOUNT) return serviceAccountView(row, assertionAuthenticated() === id);
      const { api_scope, resource_servers, ...metadata } = row.metadata;
      return {
        ...metadata,
        client_id: row.clientId,
        client_name: row.name,
        ...(api_scope ? { [API_SCOPE]: api_scope } : {}),
        ...(resource_servers ? { [RESOURCE_SERVERS]: resource_servers } : {}),
        // The stored HMAC digest, not the secret: see src/oidc/client-secrets.ts.
        ...(row.secretHash ? { client_secret: row.secretHash } : {}),
      } as AdapterPayload;
    }
    // Clients are managed with the admin CLI, not through the provider.
    async upsert(): Promise<void> {
      throw new Error('clients are managed with the admin CLI');
    }
    async destroy(): Promise<void> {
      throw new Error('clients are managed with the admin CLI');
    }
    async findByUid() { return undefined; }
    async findByUserCode() { return undefined; }
    async consume(): Promise<void> {}
    async revokeByGrantId(): Promise<void> {}
  }

  class PrismaAdapter implements Adapter {
    constructor(readonly type: string) {
      if (type === 'Client') return new ClientAdapter() as unknown as PrismaAdapter;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      const columns = {
        payload: JSON.stringify(payload),
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        accountId: payload.accountId ?? null,
        expiresAt,
      };
      await db.oidcPayload.upsert({
        where: { type_id: { type: this.type, id } },
        create: { type: this.type, id, ...columns },
        update: columns,
      });
    }

    private toPayload(row: { payload: string; expiresAt: Date | null; consumedAt: Date | null } | null) {
      if (!row) return undefined;
      if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return undefined;
      const payload = JSON.parse(row.payload) as AdapterPayload;
      if (row.consumedAt) payload.consumed = epoch(row.consumedAt);
      return payload;
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return this.toPayload(await db.oidcPayload.findUnique({ where: { type_id: { type: this.type, id } } }));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.toPayload(await db.oidcPayload.findFirst({ where: { type: this.type, uid } }));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.toPayload(await db.oidcPayload.findFirst({ where: { type: this.type, userCode } }));
    }

    async consume(id: string): Promise<void> {
      const { count } = await db.oidcPayload.updateMany({
        where: { type: this.type, id, consumedAt: null },
        data: { consumedAt: new Date() },
      });
      if (count === 0) throw new AlreadyConsumed(this.type);
    }

    async destroy(id: string): Promise<void> {
      await db.oidcPayload.deleteMany({ where: { type: this.type, id } });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.oidcPayload.deleteMany({ where: { type: this.type, grantId } });
    }
  }

  return PrismaAdapter;
}
