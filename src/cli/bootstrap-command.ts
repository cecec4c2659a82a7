// `admin bootstrap`: the first admin service account, from a shell on the
// server. Everything after it can go through the admin API.
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { ADMIN_SCOPE } from '../services/admin/administration.ts';
import { GENERATED_KEY_ALGS } from '../services/machines/service-accounts.ts';
import { cliActor } from './actor.ts';
import { printResult, UsageError } from './output.ts';
import { readJwksFile } from './service-account-commands.ts';
import { bootstrapPersonCommand } from './console-commands.ts';

export async function bootstrapCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  if ([sub, ...args].some((a) => a === '--person' || a?.startsWith('--person='))) return bootstrapPersonCommand(rt, sub === undefined ? args : [sub, ...args]);
  const { values } = parseArgs({
    args: sub === undefined ? args : [sub, ...args],
    options: { json: { type: 'boolean', default: false }, name: { type: 'string' }, 'generate-key': { type: 'string' }, 'jwks-file': { type: 'string' } },
  });
  const usage = 'usage: bootstrap --name NAME (--generate-key ES256 | --jwks-file FILE)';
  if (!values.name) throw new UsageError(usage);
  const gen = values['generate-key'];
  if (Boolean(gen) === Boolean(values['jwks-file'])) throw new UsageError(`${usage}: give exactly one of --generate-key or --jwks-file`);
  if (gen && !(GENERATED_KEY_ALGS as readonly string[]).includes(gen)) throw new UsageError(`--generate-key must be one of ${GENERATED_KEY_ALGS.join(', ')}`);
  const { account, privateJwk, resource } = await rt.admin.bootstrap(cliActor(), {
    name: values.name,
    generateKey: gen as (typeof GENERATED_KEY_ALGS)[number] | undefined,
    jwks: values['jwks-file'] ? readJwksFile(values['jwks-file']) : undefined,
  });
  const out = {
    client_id: account.clientId,
    ...(privateJwk ? { private_key: privateJwk } : {}),
    resource: resource.identifier,
    scope: ADMIN_SCOPE,
    token_endpoint: `${rt.config.issuer}/token`,
  };
  printResult(values.json, out, () =>
    [
      `admin service account: ${account.clientId}`,
      privateJwk ? `private key (JWK; shown once, not stored):\n${JSON.stringify(privateJwk)}` : '',
      `get a token: jwt-bearer (or client_credentials with private_key_jwt) at ${out.token_endpoint}`,
      `  with resource=${resource.identifier} (scope ${ADMIN_SCOPE}, or ${ADMIN_SCOPE}:read for reads only)`,
    ]
      .filter(Boolean)
      .join('\n'),
  );
}
