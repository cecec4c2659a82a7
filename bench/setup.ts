// Every piece of data the scenarios need, created in ONE place. For Latchkey
// it goes through the same services the admin CLI uses (src/runtime.ts), on
// the database the server will then open; for the baseline it is made up
// here in the same shape. When a service's signature changes, this is the
// file to adapt.
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { loadConfig } from '../src/config/env.ts';
import { openRuntime } from '../src/runtime.ts';

export const API_JWT = 'https://api.bench.test';
export const API_OPAQUE = 'https://opaque.bench.test';
export const API_SCOPE = 'api.read api.write';
export const REDIRECT_URI = 'https://app.bench.test/callback';
export const PASSWORD = 'correct horse battery staple';
/** People to spread logins over (a storm of one person would also measure one row's lock). */
export const PEOPLE = 8;

export interface AppClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface Fixture {
  /** RS256 ID tokens (the default). */
  app: AppClient;
  /** Same, with ES256 ID tokens. */
  appEs256: AppClient;
  /** A machine-only confidential client: client credentials and introspection. */
  machine: { clientId: string; clientSecret: string };
  serviceAccount: { clientId: string; privateJwk: JWK; publicJwk: JWK; scope: string };
  people: { email: string; password: string; id: string }[];
  /** Latchkey only: a service account's API key bound to API_JWT, and that API's resource-server client. */
  apiKey?: { key: string; resourceServer: { clientId: string; clientSecret: string } };
}

function publicPart(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return pub;
}

/** Creates the bench's data in Latchkey's database (migrating it first). */
export async function setUpLatchkey(env: Record<string, string>): Promise<Fixture> {
  const runtime = await openRuntime(loadConfig(env));
  try {
    await runtime.resources.create({ identifier: API_JWT, scope: API_SCOPE, format: 'jwt' });
    await runtime.resources.create({ identifier: API_OPAQUE, scope: 'api.read', format: 'opaque' });
    const app = async (name: string, idTokenAlg: 'RS256' | 'ES256'): Promise<AppClient> => {
      const { client, clientSecret } = await runtime.clients.create({ name, redirectUris: [REDIRECT_URI], idTokenAlg });
      return { clientId: client.clientId, clientSecret: clientSecret!, redirectUri: REDIRECT_URI };
    };
    const machine = await runtime.clients.create({ name: 'bench machine', redirectUris: [], clientCredentials: true, apiScope: API_SCOPE });
    const sa = await runtime.serviceAccounts.create({ name: 'bench service account', scope: API_SCOPE, generateKey: 'ES256' });
    const rs = await runtime.clients.create({ name: 'bench resource server', redirectUris: [], resourceServers: [API_JWT] });
    const apiKey = await runtime.apiKeys.create({
      owner: { clientId: sa.account.clientId },
      name: 'bench key',
      scope: 'api.read',
      resource: API_JWT,
      allowIps: ['10.0.0.0/8'],
    });
    const people = await Promise.all(
      Array.from({ length: PEOPLE }, async (_, i) => {
        const email = `person-${i}@bench.test`;
        const user = await runtime.users.create({ email, password: PASSWORD, name: `Person ${i}`, emailVerified: true });
        return { email, password: PASSWORD, id: user.id };
      }),
    );
    return {
      app: await app('bench app (RS256)', 'RS256'),
      appEs256: await app('bench app (ES256)', 'ES256'),
      machine: { clientId: machine.client.clientId, clientSecret: machine.clientSecret! },
      serviceAccount: { clientId: sa.account.clientId, privateJwk: sa.privateJwk!, publicJwk: publicPart(sa.privateJwk!), scope: API_SCOPE },
      people,
      apiKey: { key: apiKey.key, resourceServer: { clientId: rs.client.clientId, clientSecret: rs.clientSecret! } },
    };
  } finally {
    await runtime.close();
  }
}

/** The same data for the baseline, which keeps it in memory (static clients, a Map of people). */
export async function baselineFixture(): Promise<Fixture> {
  const id = () => randomBytes(16).toString('base64url');
  const secret = () => randomBytes(32).toString('base64url');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'bench-sa', alg: 'ES256', use: 'sig' };
  return {
    app: { clientId: id(), clientSecret: secret(), redirectUri: REDIRECT_URI },
    appEs256: { clientId: id(), clientSecret: secret(), redirectUri: REDIRECT_URI },
    machine: { clientId: id(), clientSecret: secret() },
    serviceAccount: { clientId: `sa_${id()}`, privateJwk, publicJwk: publicPart(privateJwk), scope: API_SCOPE },
    people: Array.from({ length: PEOPLE }, (_, i) => ({ email: `person-${i}@bench.test`, password: PASSWORD, id: `person-${i}` })),
  };
}
