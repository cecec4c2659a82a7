// Entry point: read configuration, prepare storage and keys, serve, and shut
// down cleanly.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { buildApp, buildConsoleApp, buildOperationsApp } from './app.ts';
import { ConfigError, isLoopbackHost, loadConfig, type Config } from './config/env.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRenderer } from './middleware/koa-render.ts';
import { currentRequest } from './oidc/provider-request.ts';
import { sweep } from './services/ops/sweeper.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createProvider } from './oidc/provider.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { getOrCreateSecret } from './services/secrets/server-secrets.ts';
import { closePasswordWorkers } from './services/people/passwords.ts';
import { advanceKeyStages, ensureSigningKeys, loadSigningJwks } from './services/secrets/signing-keys.ts';
import { createLiveProvider, type LiveProvider } from './oidc/live-provider.ts';
import { API_SCOPES } from './api/routes.ts';
import { describeScopes } from './interactions/scope-descriptions.ts';
import { createBackchannelSender } from './oidc/backchannel-logout.ts';

export interface RunningServer {
  url: string;
  /** The operators' listener (metrics, detailed readiness), when on. */
  operationsUrl?: string;
  /** The admin console's own listener (ADMIN_CONSOLE_PORT), when on. */
  consoleUrl?: string;
  server: Server;
  runtime: Runtime;
  live: LiveProvider;
  metrics: Metrics;
  /** Advances key stages and reloads keys now (the timer does it every KEY_REFRESH_INTERVAL). */
  refreshKeys(): Promise<boolean>;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export async function startServer(config: Config, log: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const metrics = createMetrics();
  const runtime = await openRuntime(config, log, {
    observeQuery: (operation, seconds) => metrics.dbDuration.observe({ operation }, seconds),
    onAudit: (type) => {
      if (type === 'login_succeeded') metrics.logins.inc({ result: 'succeeded' });
      else if (type === 'login_failed') metrics.logins.inc({ result: 'failed' });
      else if (type === 'account_locked') metrics.lockouts.inc();
    },
    requestScope: currentRequest,
    backgroundCheckpoints: true,
  });
  metrics.watchTables(runtime.db);
  if (runtime.generatedKekFile) {
    log.warn({ file: runtime.generatedKekFile }, 'using a key-encryption key from DATA_DIR (development only); set LATCHKEY_KEY_ENCRYPTION_KEY in production');
  }
  // Latchkey's own JSON API is a resource like any other: tokens for it are requested with resource=API_RESOURCE.
  await runtime.resources.ensure(config.apiResource, Object.keys(API_SCOPES));
  const createdKeys = await ensureSigningKeys(runtime.db, runtime.box, new Date(runtime.clock.now()));
  if (createdKeys.length) log.info({ kids: createdKeys }, 'generated signing keys');
  const cookieKeys = [await getOrCreateSecret(runtime.db, runtime.box, 'cookie-key')];

  for (const warning of runtime.ui.catalogue.warnings) log.warn(warning);
  const render = createRenderer(runtime.ui);
  const backchannel = createBackchannelSender({ log, audit: runtime.audit, endings: runtime.sessionEndings });
  const build = (jwks: Awaited<ReturnType<typeof loadSigningJwks>>) =>
    createProvider({
      config,
      artifacts: runtime.artifacts,
      log,
      render,
      users: runtime.users,
      clients: runtime.clients,
      serviceAccounts: runtime.serviceAccounts,
      resources: runtime.resources,
      apiKeys: runtime.apiKeys,
      jwks,
      cookieKeys,
      artifactIdKey: runtime.artifactIdKey,
      metrics,
      tokenUsage: runtime.tokenUsage,
      now: () => runtime.clock.now(),
      describeScopes,
      backchannel,
      uiLocales: runtime.ui.catalogue.tags,
      settleWrites: runtime.settleWrites,
      audit: runtime.audit,
    });
  // A retiring key stays published until the longest-lived token it signed has expired.
  const retireAfter = async () => {
    const longestResource = (await runtime.resources.list()).reduce((max, r) => Math.max(max, r.ttl), 0);
    return Math.max(config.ttl.idToken, config.ttl.accessToken, longestResource) + config.clockSkew;
  };
  const refreshKeys = async () => {
    const changes = await advanceKeyStages(runtime.db, await retireAfter(), new Date(runtime.clock.now()));
    if (changes.length) log.info({ changes }, 'signing key stages advanced');
    const rebuilt = await live.refresh();
    if (rebuilt) log.info({ signing: live.signingKids }, 'signing keys reloaded');
    return rebuilt;
  };
  await advanceKeyStages(runtime.db, await retireAfter(), new Date(runtime.clock.now()));
  const live = await createLiveProvider(build, () => loadSigningJwks(runtime.db, runtime.box));
  // Logout notices owed by any process (this one, another node, the CLI) are delivered from here.
  backchannel.start(() => live.current);
  const app = buildApp({ runtime, live, render, log, cookieKeys, metrics });

  const server = await listen(createServer(app.callback()), config.port, config.host);
  const port = (server.address() as AddressInfo).port;

  // The operators' listener: metrics and detailed readiness, off the public port.
  let metricsServer: Server | undefined;
  if (config.metricsPort !== undefined) {
    try {
      metricsServer = await listen(createServer(buildOperationsApp({ runtime, live, log, metrics }).callback()), config.metricsPort, config.metricsHost);
    } catch (err) {
      server.close();
      await runtime.close();
      throw new Error(`METRICS_PORT ${config.metricsPort} on ${config.metricsHost}: ${(err as Error).message} (set METRICS_PORT to a free port, or off)`);
    }
  }

  // The admin console's own listener, when it is not under /admin on the main one.
  let consoleServer: Server | undefined;
  const consoleListener = config.console.listener;
  if (consoleListener) {
    try {
      consoleServer = await listen(
        createServer(buildConsoleApp({ runtime, live, render, log, cookieKeys, metrics }).callback()),
        consoleListener.port,
        consoleListener.host,
      );
    } catch (err) {
      server.close();
      metricsServer?.close();
      await runtime.close();
      throw new Error(
        `ADMIN_CONSOLE_PORT ${consoleListener.port} on ${consoleListener.host}: ${(err as Error).message} (set ADMIN_CONSOLE_PORT to a free port, or unset it)`,
      );
    }
  }

  const keyTimer = setInterval(() => {
    refreshKeys().catch((err) => log.warn({ err }, 'key refresh failed'));
  }, config.keyRefreshIntervalMs);
  keyTimer.unref();

  // Token counts and failures reach the audit trail in batches: a crash loses at most one interval of them.
  const usageFlusher = setInterval(() => {
    runtime.tokenUsage.flush().catch((err) => log.warn({ err: { message: (err as Error).message } }, 'audit flush failed'));
  }, config.auditFlushIntervalMs);
  usageFlusher.unref();

  const sweeper = setInterval(() => {
    sweep(
      runtime.db,
      {
        auditRetentionDays: config.auditRetentionDays,
        registered: { tokens: runtime.registrationTokens, clients: runtime.clients, unusedDays: config.selfRegistered.unusedDays },
      },
      new Date(runtime.clock.now()),
    ).then(
      (removed) => log.debug({ removed }, 'swept expired rows'),
      (err) => log.warn({ err }, 'sweep failed'),
    );
  }, config.sweepIntervalMs);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    operationsUrl: metricsServer ? `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}` : undefined,
    consoleUrl: consoleListener?.url,
    server,
    runtime,
    live,
    metrics,
    refreshKeys,
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        clearInterval(keyTimer);
        clearInterval(usageFlusher);
        backchannel.stop();
        metricsServer?.close();
        consoleServer?.close();
        consoleServer?.closeIdleConnections();
        // Stop accepting, let in-flight requests finish, drop idle keep-alives.
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await runtime.tokenUsage.flush().catch((err) => log.warn({ err: { message: (err as Error).message } }, 'audit flush failed'));
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
  for (const warning of config.warnings) log.warn(warning);
  const running = await startServer(config, log);
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    // The password threads stop before exit: one torn down mid-hash aborts the process.
    running
      .close()
      .then(closePasswordWorkers)
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  // Before anything announces that the server runs: a supervisor (or a test) that
  // stops it on seeing the announcement must find the handler in place, not
  // the default action that kills the process mid-write.
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const listening = `${config.host}:${(running.server.address() as AddressInfo).port}`;
  log.info({ issuer: config.issuer, discovery: `${config.issuer}/.well-known/openid-configuration`, listening }, 'latchkey is ready');
  const reach = isLoopbackHost(config.host)
    ? ' (this machine only; HOST=0.0.0.0 listens on every interface)'
    : config.host === '0.0.0.0' || config.host === '::'
      ? ' (every interface)'
      : '';
  console.error(
    [
      'Latchkey is running.',
      `  issuer:    ${config.issuer}`,
      `  discovery: ${config.issuer}/.well-known/openid-configuration`,
      `  listening: ${listening}${reach}`,
      ...config.warnings.map((w) => `  warning:   ${w}`),
    ].join('\n'),
  );
}

/** Starts the server from the environment; a start that fails says why on stderr and exits 1. */
export function runFromCommandLine(): void {
  main().catch((err) => {
    if (err instanceof ConfigError) console.error(`latchkey: ${err.message}`);
    else console.error(`latchkey: failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

// `tsx src/server.ts`; the build's entry is src/main.ts.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runFromCommandLine();
