// `admin client …`: thin callers of src/services/admin/administration.ts.
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { clientView } from '../api/views.ts';
import { ID_TOKEN_ALGS, type CreateClientInput } from '../services/machines/clients.ts';
import { cliActor } from './actor.ts';
import { DURATION_WORDS, parseDuration } from '../config/durations.ts';
import { printResult, table, UsageError } from './output.ts';
import { jsonLinesFrom, onConflictOf, printImport } from './import-input.ts';

const registration = {
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  scope: { type: 'string' },
  'auth-method': { type: 'string' },
  'id-token-alg': { type: 'string' },
  'api-scope': { type: 'string' },
  'resource-server': { type: 'string', multiple: true },
  'default-resource': { type: 'string' },
  'logo-uri': { type: 'string' },
  'client-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

function checkedAuthMethod(value: string | undefined) {
  if (value && !['client_secret_basic', 'client_secret_post'].includes(value)) {
    throw new UsageError('--auth-method must be client_secret_basic or client_secret_post');
  }
  return value as CreateClientInput['tokenEndpointAuthMethod'];
}

function checkedIdTokenAlg(value: string | undefined) {
  if (value && !(ID_TOKEN_ALGS as readonly string[]).includes(value)) throw new UsageError(`--id-token-alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);
  return value as CreateClientInput['idTokenAlg'];
}

function showLines(view: Record<string, unknown>): string {
  return Object.entries(view)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)).join(' ') : v}`)
    .join('\n');
}

export async function clientCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const actor = cliActor();
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args,
        options: {
          ...registration,
          name: { type: 'string' },
          public: { type: 'boolean', default: false },
          'client-credentials': { type: 'boolean', default: false },
          'require-mfa': { type: 'boolean', default: false },
          'device-flow': { type: 'boolean', default: false },
          'backchannel-logout-uri': { type: 'string' },
          'backchannel-logout-session-required': { type: 'boolean', default: false },
        },
      });
      if (!values.name) throw new UsageError('client create needs --name NAME');
      const authMethod = checkedAuthMethod(values['auth-method']);
      if (authMethod && values.public) throw new UsageError('--auth-method does not apply to a --public client');
      const { client, clientSecret } = await rt.admin.clients.create(actor, {
        name: values.name,
        redirectUris: values['redirect-uri'] ?? [],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        public: values.public,
        scope: values.scope,
        tokenEndpointAuthMethod: authMethod,
        idTokenAlg: checkedIdTokenAlg(values['id-token-alg']),
        clientCredentials: values['client-credentials'],
        apiScope: values['api-scope'],
        resourceServers: values['resource-server'],
        requireMfa: values['require-mfa'],
        defaultResource: values['default-resource'],
        deviceFlow: values['device-flow'],
        backchannelLogoutUri: values['backchannel-logout-uri'],
        backchannelLogoutSessionRequired: values['backchannel-logout-session-required'],
        logoUri: values['logo-uri'],
        clientUri: values['client-uri'],
        policyUri: values['policy-uri'],
        tosUri: values['tos-uri'],
      });
      printResult(values.json, { client_id: client.clientId, ...(clientSecret ? { client_secret: clientSecret } : {}) }, () =>
        [
          `client_id:     ${client.clientId}`,
          clientSecret ? `client_secret: ${clientSecret}\n(shown once: it is stored only as a keyed hash)` : '(public client: no secret; PKCE is required)',
        ].join('\n'),
      );
      return;
    }
    case 'update': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          ...registration,
          name: { type: 'string' },
          'client-credentials': { type: 'string' },
          'require-mfa': { type: 'string' },
          'device-flow': { type: 'string' },
          'backchannel-logout-uri': { type: 'string' },
          'backchannel-logout-session-required': { type: 'string' },
        },
      });
      if (!positionals[0]) throw new UsageError('client update needs a client id');
      const flag = (v: string | undefined, name: string) => {
        if (v === undefined) return undefined;
        if (v !== 'true' && v !== 'false') throw new UsageError(`--${name} must be true or false`);
        return v === 'true';
      };
      const client = await rt.admin.clients.update(actor, positionals[0], {
        name: values.name,
        redirectUris: values['redirect-uri'],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        scope: values.scope,
        tokenEndpointAuthMethod: checkedAuthMethod(values['auth-method']),
        idTokenAlg: checkedIdTokenAlg(values['id-token-alg']),
        clientCredentials: flag(values['client-credentials'], 'client-credentials'),
        apiScope: values['api-scope'],
        resourceServers: values['resource-server'],
        requireMfa: flag(values['require-mfa'], 'require-mfa'),
        defaultResource: values['default-resource'],
        deviceFlow: flag(values['device-flow'], 'device-flow'),
        backchannelLogoutUri: values['backchannel-logout-uri'],
        backchannelLogoutSessionRequired: flag(values['backchannel-logout-session-required'], 'backchannel-logout-session-required'),
        logoUri: values['logo-uri'],
        clientUri: values['client-uri'],
        policyUri: values['policy-uri'],
        tosUri: values['tos-uri'],
      });
      const view = clientView(client);
      printResult(values.json, view, () => showLines(view));
      return;
    }
    case 'rotate-secret': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { json: { type: 'boolean', default: false }, overlap: { type: 'string', default: '86400' } },
      });
      if (!positionals[0]) throw new UsageError('usage: client rotate-secret ID [--overlap SECONDS]');
      const overlap = Number(values.overlap);
      if (!/^\d+$/.test(values.overlap)) throw new UsageError('--overlap must be a whole number of seconds');
      const { client, clientSecret } = await rt.admin.clients.rotateSecret(actor, positionals[0], overlap);
      const previousUntil = client.secrets.previous?.expiresAt.toISOString() ?? null;
      printResult(values.json, { client_id: client.clientId, client_secret: clientSecret, previous_secret_expires_at: previousUntil }, () =>
        [
          `client_secret: ${clientSecret}\n(shown once: it is stored only as a keyed hash)`,
          previousUntil ? `the previous secret keeps working until ${previousUntil}` : 'the previous secret no longer works',
        ].join('\n'),
      );
      return;
    }
    case 'import': {
      const { values } = parseArgs({
        args,
        options: {
          json: { type: 'boolean', default: false },
          file: { type: 'string' },
          'dry-run': { type: 'boolean', default: false },
          'on-conflict': { type: 'string' },
        },
      });
      const onConflict = onConflictOf(values['on-conflict']);
      const lines = jsonLinesFrom(values.file, 'client import --file apps.jsonl|- [--dry-run] [--on-conflict skip|update|fail]');
      printImport(values.json, 'apps', await rt.admin.clients.import(actor, lines, { dryRun: values['dry-run'], onConflict }));
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
      const clients = (await rt.admin.clients.list()).map(clientView);
      printResult(values.json, { clients }, () => table(clients, ['client_id', 'client_name', 'public', 'created_at']));
      return;
    }
    case 'show': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
      if (!positionals[0]) throw new UsageError('client show needs a client id');
      const client = clientView(await rt.admin.clients.get(positionals[0]));
      printResult(values.json, client, () => showLines(client));
      return;
    }
    case 'delete': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
      if (!positionals[0]) throw new UsageError('client delete needs a client id');
      await rt.admin.clients.delete(actor, positionals[0]);
      printResult(values.json, { deleted: positionals[0] }, () => `deleted client ${positionals[0]}`);
      return;
    }
    case 'registration-token': {
      // An initial access token for dynamic client registration (DYNAMIC_CLIENT_REGISTRATION=token).
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { expires: { type: 'string' }, uses: { type: 'string' }, json: { type: 'boolean', default: false } },
      });
      if (positionals[0] !== 'create') throw new UsageError('usage: client registration-token create [--expires 7d] [--uses N]');
      const expiresIn = values.expires === undefined ? undefined : parseDuration(values.expires);
      if (values.expires !== undefined && expiresIn === undefined) throw new UsageError(`--expires must be ${DURATION_WORDS}`);
      if (values.uses !== undefined && !/^\d{1,6}$/.test(values.uses)) throw new UsageError('--uses must be a whole number from 1');
      // Neither given: one registration within a day (Keycloak's default for its initial access tokens).
      const neither = values.expires === undefined && values.uses === undefined;
      const created = await rt.registrationTokens.create(actor, {
        expiresIn: neither ? 86_400 : expiresIn,
        uses: neither ? 1 : values.uses === undefined ? undefined : Number(values.uses),
      });
      const expiresAt = created.expiresAt?.toISOString() ?? null;
      printResult(values.json, { registration_token: created.token, expires_at: expiresAt, uses: created.uses }, () =>
        [
          `registration_token: ${created.token}`,
          `expires_at:         ${expiresAt ?? 'never'}`,
          `uses:               ${created.uses ?? 'unlimited'}`,
          '(shown once: it is stored only as a keyed hash; send it as Authorization: Bearer … to POST /reg)',
        ].join('\n'),
      );
      return;
    }
    default:
      throw new UsageError('client commands: create, import --file F, update ID, rotate-secret ID, list, show ID, delete ID, registration-token create');
  }
}
