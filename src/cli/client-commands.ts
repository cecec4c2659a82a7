// `admin client …`
import { parseArgs } from 'node:util';
import type { Runtime } from '../runtime.ts';
import { ID_TOKEN_ALGS } from '../services/clients.ts';
import { printResult, table, UsageError } from './output.ts';

const describe = (c: Awaited<ReturnType<Runtime['clients']['get']>>) => ({
  client_id: c.clientId,
  client_name: c.name,
  public: c.public,
  ...c.metadata,
  created_at: c.createdAt.toISOString(),
});

export async function clientCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args,
        options: {
          name: { type: 'string' },
          'redirect-uri': { type: 'string', multiple: true },
          'post-logout-redirect-uri': { type: 'string', multiple: true },
          public: { type: 'boolean', default: false },
          scope: { type: 'string' },
          'auth-method': { type: 'string' },
          'id-token-alg': { type: 'string' },
          'client-credentials': { type: 'boolean', default: false },
          'api-scope': { type: 'string' },
          'resource-server': { type: 'string', multiple: true },
          'require-mfa': { type: 'boolean', default: false },
          'default-resource': { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      });
      if (!values.name) throw new UsageError('client create needs --name NAME');
      const authMethod = values['auth-method'];
      if (authMethod && !['client_secret_basic', 'client_secret_post'].includes(authMethod)) {
        throw new UsageError('--auth-method must be client_secret_basic or client_secret_post');
      }
      if (authMethod && values.public) throw new UsageError('--auth-method does not apply to a --public client');
      const idTokenAlg = values['id-token-alg'];
      if (idTokenAlg && !(ID_TOKEN_ALGS as readonly string[]).includes(idTokenAlg)) {
        throw new UsageError(`--id-token-alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);
      }
      const { client, clientSecret } = await rt.clients.create({
        name: values.name,
        redirectUris: values['redirect-uri'] ?? [],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        public: values.public,
        scope: values.scope,
        tokenEndpointAuthMethod: authMethod as 'client_secret_basic' | 'client_secret_post' | undefined,
        idTokenAlg: idTokenAlg as (typeof ID_TOKEN_ALGS)[number] | undefined,
        clientCredentials: values['client-credentials'],
        apiScope: values['api-scope'],
        resourceServers: values['resource-server'],
        requireMfa: values['require-mfa'],
        defaultResource: values['default-resource'],
      });
      printResult(values.json, { client_id: client.clientId, ...(clientSecret ? { client_secret: clientSecret } : {}) }, () =>
        [
          `client_id:     ${client.clientId}`,
          clientSecret ? `client_secret: ${clientSecret}\n(shown once: it is stored only as a keyed hash)` : '(public client: no secret; PKCE is required)',
        ].join('\n'));
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
      const clients = (await rt.clients.list()).map(describe);
      printResult(values.json, { clients }, () => table(clients, ['client_id', 'client_name', 'public', 'created_at']));
      return;
    }
    case 'show': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
      if (!positionals[0]) throw new UsageError('client show needs a client id');
      const client = describe(await rt.clients.get(positionals[0]));
      printResult(values.json, client, () => Object.entries(client).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') : v}`).join('\n'));
      return;
    }
    case 'delete': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
      if (!positionals[0]) throw new UsageError('client delete needs a client id');
      await rt.clients.delete(positionals[0]);
      printResult(values.json, { deleted: positionals[0] }, () => `deleted client ${positionals[0]}`);
      return;
    }
    default:
      throw new UsageError('client commands: create, list, show ID, delete ID');
  }
}
