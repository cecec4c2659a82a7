// The admin command line's commands: `latchkey-admin <command> … [--json]`
// (bin/latchkey-admin.mjs, or `npm run --silent admin -- …`) runs them through
// src/cli/index.ts, compiled; the tests also call runCli directly.
// Only the command's own module is loaded, and the runtime (database,
// services, templates) only when the command first uses it: a usage error or
// `help` answers from this file and its few light imports.
import type { Config } from '../config/env.ts';
import type { Runtime } from '../runtime.ts';
import { Writable } from 'node:stream';
import { nearest } from './args.ts';
import { describeError } from './errors.ts';
import { UsageError } from './output.ts';
import { cliIo, withCliIo, type CliIo } from './io.ts';

const USAGE = `usage: latchkey-admin <command> [options] [--json]   (npx latchkey-admin …, or npm run --silent admin -- …)

  bootstrap --name NAME (--generate-key ES256|RS256|EdDSA | --jwks-file FILE)
                (the first admin service account, for the admin API)
  bootstrap --person EMAIL   (the admin console's first administrator: ADMIN_ROLE)
  client create --name NAME --redirect-uri URI [--redirect-uri URI …]
                [--post-logout-redirect-uri URI …] [--public]
                [--scope "openid profile email offline_access"]
                [--auth-method client_secret_basic|client_secret_post] [--id-token-alg RS256|ES256]
                [--client-credentials] [--api-scope "a b"]   (no --redirect-uri: a machine-only client)
                [--resource-server URI …]   (it may introspect tokens for these APIs)
                [--require-mfa] [--default-resource URI]   (the API a person's authorization
                asking for API scopes is for when it names no resource)
                [--device-flow]   (RFC 8628 device authorization; with --public and no
                --redirect-uri: a CLI or TV app)
                [--backchannel-logout-uri URI [--backchannel-logout-session-required]]
                (logout tokens posted there when a person's session ends)
                [--logo-uri URL] [--client-uri URL] [--policy-uri URL] [--tos-uri URL]
                (shown with the app's name and host on its sign-in and consent pages)
  client update ID [--name N] [--redirect-uri URI …] [--scope S] [--api-scope S] [--require-mfa true|false]
                [--device-flow true|false] [--default-resource URI|''] [--backchannel-logout-uri URI|'']
                [--logo-uri URL|''] [--client-uri URL|''] [--policy-uri URL|''] [--tos-uri URL|''] …
  client rotate-secret ID [--overlap SECONDS]   (default 86400: the old secret works that long)
  client import --file apps.jsonl|- [--dry-run] [--on-conflict skip|update|fail]
                (JSON Lines: client_id, client_secret, client_name, redirect_uris, grant_types, …)
  client list | client show ID | client delete ID
  client registration-token create [--expires 7d] [--uses N]   (for DYNAMIC_CLIENT_REGISTRATION=token)
  service-account create --name N --scope "a b" [--default-scope "a"]
                (--jwks-file FILE | --generate-key ES256|RS256|EdDSA | --shared-secret | --shared-secret-stdin)
                [--grant jwt-bearer] [--grant client_credentials] [--key-expires 90d|DATE]
                [--client-id ID]   (keep a partner's existing id)
                [--self-signed-tokens [--self-signed-max-lifetime SECONDS]]   (default 900)
  service-account add-key ID --jwks-file FILE [--key-expires 90d|DATE]
  service-account remove-key ID KID | list | show ID | disable ID | enable ID
  service-account rotate-secret ID [--overlap SECONDS] [--shared-secret-stdin]
                (a shared-secret account; the old secret works that long, default 86400)
  resource create --identifier URI --scope "a b" [--format jwt|opaque] [--ttl SECONDS]
                [--claims "email email_verified name roles"]   (person claims in its access tokens)
                [--protected-resource-metadata]   (print the RFC 9728 document the API serves instead)
                [--scope-role SCOPE=ROLE[,ROLE…] …]   (a person holds SCOPE only with one of the roles)
                [--machines-only]   (no person ever holds its scopes)
  resource update IDENTIFIER [--scope "a b"] [--scope-role SCOPE=ROLE,… | SCOPE= …]
                [--machines-only true|false] [--format …] [--ttl …] [--claims …]
  resource list | resource delete IDENTIFIER
  user create --email E (--password P | --password-stdin) [--name N] [--email-verified]
  user import --file people.jsonl|- [--dry-run] [--on-conflict skip|update|fail]
                (JSON Lines: email, id, name, password_hash, totp, recovery_codes, roles, …)
  user list [--email PART] | user show ID | user update ID [--email E] [--name N] [--email-verified true|false]
  user set-password ID (--password P | --password-stdin)
  user disable ID | user enable ID | user reset-mfa ID
  user invite --email E [--name N] [--send]   (REGISTRATION=invite or open; prints the link once)
  user add-role ID ROLE | user remove-role ID ROLE
  user sessions ID | user end-sessions ID [SESSION_ID] | user apps ID | user revoke-app ID GRANT_ID
  api-key create --owner ID --name N --scope "a b" [--resource URI] [--expires 90d|DATE]
                [--allow-ip CIDR …] [--description D]   (the key is shown once)
  api-key import --owner ID --name N --scope "a b" [--resource URI] [--expires 90d|DATE]
                [--allow-ip CIDR …] (--key-stdin | --key-sha256 HEX)   (a key of another format)
  api-key import --file keys.jsonl|- [--dry-run] [--on-conflict skip|fail]
  api-key list [--owner ID] | api-key show ID | api-key revoke ID
  audit list [--user ID] [--client ID] [--type TYPE|PREFIX.] [--since DATE] [--until DATE] [--limit N]
  keys list | keys status | keys rotate [--alg RS256|ES256|EdDSA]
  kek rotate            (re-encrypts secrets under LATCHKEY_NEW_KEY_ENCRYPTION_KEY)
  config export [--file F] [--format yaml|json]   (apps, APIs, service accounts, roles; no secrets)
  config apply --file F|- [--dry-run] [--prune]   (prints the plan; --prune deletes what the file lacks)`;

type Command = (rt: Runtime, sub: string | undefined, args: string[]) => Promise<void>;

/** Each command family's module, imported when that family runs. */
const commands: Record<string, () => Promise<Command>> = {
  bootstrap: async () => (await import('./bootstrap-command.ts')).bootstrapCommand,
  client: async () => (await import('./client-commands.ts')).clientCommand,
  user: async () => (await import('./user-commands.ts')).userCommand,
  'service-account': async () => (await import('./service-account-commands.ts')).serviceAccountCommand,
  resource: async () => (await import('./resource-commands.ts')).resourceCommand,
  audit: async () => (await import('./audit-commands.ts')).auditCommand,
  keys: async () => (await import('./key-commands.ts')).keysCommand,
  kek: async () => (await import('./key-commands.ts')).kekCommand,
  'api-key': async () => (await import('./api-key-commands.ts')).apiKeyCommand,
  config: async () => (await import('./config-commands.ts')).configCommand,
};

/**
 * The runtime, opened on first use. A command parses and checks its
 * arguments before it calls into the runtime, so a usage error exits before
 * anything is opened: no key file, no database, no migration. Every use is a
 * call (`rt.admin.clients.create(…)`, awaited anyway); `rt.config` is read
 * without opening anything.
 */
function openOnFirstUse(config: () => Config, open: () => Promise<Runtime>): Runtime {
  const member = (path: (string | symbol)[]): unknown =>
    new Proxy(() => {}, {
      // Not a promise: `await rt.admin` must not open anything by looking for `then`.
      get: (_, prop) => (prop === 'then' ? undefined : member([...path, prop])),
      apply: async (_, __, args: unknown[]) => {
        let owner: unknown = await open();
        for (const p of path.slice(0, -1)) owner = (owner as Record<string | symbol, unknown>)[p];
        const fn = (owner as Record<string | symbol, (...a: unknown[]) => unknown>)[path.at(-1)!]!;
        return fn.apply(owner, args);
      },
    });
  return new Proxy({} as Runtime, { get: (_, prop) => (prop === 'config' ? config() : prop === 'then' ? undefined : member([prop])) });
}

/**
 * Runs one command; its exit status. Output, input and environment are the
 * process's unless `io` is given (the tests: the same code, without a process).
 */
export function runCli(argv: string[], io?: CliIo): Promise<number> {
  return io ? withCliIo(io, () => run(argv)) : run(argv);
}

async function run(argv: string[]): Promise<number> {
  const { env, stdout, stderr } = cliIo();
  const say = (line: string) => stdout(`${line}\n`);
  const complain = (line: string) => stderr(`${line}\n`);
  const [group, sub, ...rest] = argv;
  if (!group || group === 'help' || group === '--help') {
    say(USAGE);
    return group ? 0 : 2;
  }
  const load = commands[group];
  if (!load) {
    const guess = nearest(group, Object.keys(commands));
    complain(`latchkey-admin: unknown command "${group}"${guess ? ` (did you mean ${guess}?)` : ''}; the commands: latchkey-admin help`);
    return 2;
  }
  const [command, { ConfigError, loadConfig }, { AppError }] = await Promise.all([load(), import('../config/env.ts'), import('../errors.ts')]);
  let config: Config | undefined;
  let opened: Promise<Runtime> | undefined;
  const configOnce = () => (config ??= loadConfig(env));
  // Mail the CLI would log (no SMTP_URL) goes to its stderr as JSON lines.
  const toStderr = new Writable({
    write: (chunk, _encoding, done) => {
      stderr(String(chunk));
      done();
    },
  });
  const open = async () => {
    const [{ openRuntime }, { createLogger }, { CLI_BUSY_TIMEOUT_MS }] = await Promise.all([
      import('../runtime.ts'),
      import('../logger.ts'),
      import('../db/sqlite.ts'),
    ]);
    return openRuntime(configOnce(), createLogger(configOnce().logLevel, toStderr), { busyTimeoutMs: CLI_BUSY_TIMEOUT_MS, deferUi: true });
  };
  try {
    await command(
      openOnFirstUse(configOnce, () => (opened ??= open())),
      sub,
      rest,
    );
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      complain(`latchkey-admin: ${err.message}`);
      return 2;
    }
    if (err instanceof AppError || err instanceof ConfigError) {
      complain(`latchkey-admin: ${err.message.replace(/\n\s*/g, ' ')}`);
      return 1;
    }
    complain(`latchkey-admin: ${describeError(err)}`);
    return 1;
  } finally {
    await opened?.then(
      (rt) => rt.close(),
      () => {},
    );
  }
}
