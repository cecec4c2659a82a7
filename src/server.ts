// Entry point: read configuration, prepare storage and keys, serve, and shut
// down cleanly.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type Provider from 'oidc-provider';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config/env.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRenderer } from './middleware/koa-render.ts';
import { sweepExpired } from './oidc/adapter.ts';
import { createProvider } from './oidc/provider.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { getOrCreateSecret } from './services/server-secrets.ts';
import { ensureSigningKeys, loadSigningJwks } from './services/signing-keys.ts';

export interface RunningServer {
  url: string;
  server: Server;
  runtime: Runtime;
  provider: Provider;
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const runtime = await openRuntime(config, log);
  if (runtime.generatedKekFile) {
    log.warn({ file: runtime.generatedKekFile }, 'using a key-encryption key from DATA_DIR (development only); set LATCHKEY_KEY_ENCRYPTION_KEY in production');
  }
  const createdKeys = await ensureSigningKeys(runtime.db, runtime.box);
  if (createdKeys.length) log.info({ kids: createdKeys }, 'generated signing keys');
  const jwks = await loadSigningJwks(runtime.db, runtime.box);
  const cookieKeys = [await getOrCreateSecret(runtime.db, runtime.box, 'cookie-key')];

  const render = createRenderer();
  const provider = createProvider({
    config,
    db: runtime.db,
    log,
    render,
    users: runtime.users,
    clients: runtime.clients,
    serviceAccounts: runtime.serviceAccounts,
    resources: runtime.resources,
    jwks,
    cookieKeys,
  });
  const app = buildApp({ runtime, provider, render, log, cookieKeys });

  const server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const sweeper = setInterval(() => {
    sweepExpired(runtime.db).then(
      (n) => n && log.debug({ removed: n }, 'swept expired artifacts'),
      (err) => log.warn({ err }, 'sweep failed'),
    );
  }, config.sweepIntervalMs);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    runtime,
    provider,
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        // Stop accepting, let in-flight requests finish, drop idle keep-alives.
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await runtime.close();
      })();
      return closing;
    },
  };
}

async function main(): Promise<void> {
  try {
    process.loadEnvFile?.('.env');
  } catch {
    // no .env file: fine
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`latchkey: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const running = await startServer(config, log);
  log.info({ issuer: config.issuer, discovery: `${config.issuer}/.well-known/openid-configuration`, listening: `${config.host}:${(running.server.address() as AddressInfo).port}` }, 'latchkey is ready');
  console.error(`Latchkey is running.\n  issuer:    ${config.issuer}\n  discovery: ${config.issuer}/.well-known/openid-configuration`);

  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(`latchkey: failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
