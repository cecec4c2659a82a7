// Everything both the server and the admin CLI need: configuration checked,
// database migrated, secrets unsealed, services built. Services get their
// dependencies here and nowhere else.
import { ConfigError, type Config } from './config/env.ts';
import { databaseKind, type Db, type QueryObserver, type Storage } from './db/database.ts';
import type { ArtifactStore } from './db/artifact-store.ts';
import { openMigratedStorage } from './db/migrate.ts';
import { ambientTransactions } from './db/transactions.ts';
import { createLogger, type Logger } from './logger.ts';
import { systemClock, type Clock } from './clock.ts';
import { createClientService, type ClientService } from './services/machines/clients.ts';
import { createRegistrationTokenService, type RegistrationTokenService } from './services/machines/registration-tokens.ts';
import { createHmac } from 'node:crypto';
import { resolveKeyEncryptionKey } from './services/secrets/key-encryption-key.ts';
import { createSecretBox, type SecretBox } from './services/secrets/secret-box.ts';
import { getOrCreateSecrets } from './services/secrets/server-secrets.ts';
import { createUserService, type UserService } from './services/people/users.ts';
import { setPasswordThreads } from './services/people/passwords.ts';
import { createServiceAccountService, type ServiceAccountService } from './services/machines/service-accounts.ts';
import { createResourceServerService, type ResourceServerService } from './services/apis/resource-servers.ts';
import { createChangeTracker } from './services/machines/config-cache.ts';
import { createAuditService, type AuditService, type AuditType } from './services/admin/audit.ts';
import { createLockoutService, type LockoutService } from './services/people/lockout.ts';
import { createSecondFactorService, type SecondFactorService } from './services/factors/second-factor.ts';
import { createSignInService, type SignInService } from './services/people/sign-in.ts';
import { createLoginStateService, type LoginStateService } from './services/people/login-state.ts';
import { createUserSessionService, type UserSessionService } from './services/people/user-sessions.ts';
import { createSessionEndings, type SessionEndings } from './services/people/session-endings.ts';
import { adminApiResource, createAdministration, type Administration } from './services/admin/administration.ts';
import { createTokenUsage, type TokenUsage } from './services/admin/token-usage.ts';
import { createLinkTokenService } from './services/links/link-tokens.ts';
import { createMailer, type Mailer } from './services/links/mailer.ts';
import { createMailThrottle } from './services/links/mail-throttle.ts';
import { createAccountLinkService, type AccountLinkService } from './services/links/account-links.ts';
import { createPasskeyService, type PasskeyService } from './services/factors/passkeys.ts';
import { createApiKeyService, type ApiKeyService } from './services/api-keys/api-keys.ts';
import { createPasswordVerifier, type PasswordVerifier } from './services/people/password-verifier.ts';
import { clientView, resourceView, serviceAccountView, userView } from './api/views.ts';
import { onFirstCall } from './first-call.ts';
import type { Ui } from './ui/ui.ts';

export interface Runtime {
  config: Config;
  db: Db;
  /** The hot-path statements on oidc_payloads (src/db/artifact-store.ts). */
  artifacts: ArtifactStore;
  /** Makes the token write the current request still holds (src/db/held-writes.ts). */
  settleWrites(): Promise<void>;
  /** SQLite with background checkpoints: whether the thread runs (src/db/checkpointer.ts). */
  checkpoints?: Storage['checkpoints'];
  box: SecretBox;
  users: UserService;
  clients: ClientService;
  /** Initial access tokens for dynamic client registration (`client registration-token create`). */
  registrationTokens: RegistrationTokenService;
  serviceAccounts: ServiceAccountService;
  resources: ResourceServerService;
  audit: AuditService;
  secondFactor: SecondFactorService;
  signIn: SignInService;
  lockout: LockoutService;
  loginState: LoginStateService;
  sessions: UserSessionService;
  sessionEndings: SessionEndings;
  /** Every administrative operation with its audit record: what the admin API and CLI call. */
  admin: Administration;
  /** Token issuance counts and failures for the audit trail, written every AUDIT_FLUSH_INTERVAL. */
  tokenUsage: TokenUsage;
  /** The time every service and rule of ours reads (src/clock.ts); tests move it instead of sleeping. */
  clock: Clock;
  mailer: Mailer;
  accountLinks: AccountLinkService;
  passkeys: PasskeyService;
  apiKeys: ApiKeyService;
  /** Checks passwords against any stored hash, imported ones too, with equal timing. */
  passwords: PasswordVerifier;
  /** The catalogue, templates, assets and brand of pages and mail. */
  ui: Ui;
  /** Key of the HMAC under which token, code and session ids are stored (src/oidc/adapter.ts). */
  artifactIdKey: Buffer;
  appliedMigrations: string[];
  /** Set when the key-encryption key was generated into DATA_DIR (development). */
  generatedKekFile?: string;
  close(): Promise<void>;
}

export interface RuntimeHooks {
  observeQuery?: QueryObserver;
  onAudit?: (type: AuditType) => void;
  /** SQLite: how long a statement waits for another process's write (the admin CLI waits longer than the server). */
  busyTimeoutMs?: number;
  /**
   * The admin CLI: the pages' templates and catalogue are loaded (and a
   * theme checked) when a command first sends mail, not at open; most
   * commands send none, and loading them was 5 % of a read command.
   * `runtime.ui` is then not there.
   */
  deferUi?: boolean;
  /** The request being served (the server's: src/oidc/provider-request.ts's currentRequest): see StorageOptions.requestScope. */
  requestScope?: () => object | undefined;
  /** SQLite: checkpoints on a thread of their own (the server): see StorageOptions.backgroundCheckpoints. */
  backgroundCheckpoints?: boolean;
}

/** The pages' settings are configuration too: a problem with them stops the start as one. */
async function loadUiOrStop(config: Config): Promise<Ui> {
  const { loadUi, UiSettingsError } = await import('./ui/ui.ts');
  try {
    return loadUi(config);
  } catch (err) {
    if (err instanceof UiSettingsError) throw new ConfigError(err.message);
    throw err;
  }
}

export async function openRuntime(config: Config, log?: Logger, hooks: RuntimeHooks = {}): Promise<Runtime> {
  setPasswordThreads(config.passwordHashThreads, config.passwordHashNice);
  // Before anything is opened: a theme or language that cannot be used stops the start at once.
  const ui = hooks.deferUi ? undefined : await loadUiOrStop(config);
  let deferredUi: Promise<Ui> | undefined;
  const uiForMail = () => {
    if (ui) return Promise.resolve(ui);
    deferredUi ??= loadUiOrStop(config);
    return deferredUi;
  };
  const kek = resolveKeyEncryptionKey(config);
  const { storage, appliedMigrations } = await openMigratedStorage(config.databaseUrl, {
    onApplied: (migrations) => log?.info({ migrations }, 'applied database migrations'),
    observe: hooks.observeQuery,
    poolSize: config.databasePoolSize,
    busyTimeoutMs: hooks.busyTimeoutMs,
    requestScope: hooks.requestScope,
    backgroundCheckpoints: hooks.backgroundCheckpoints
      ? { onLost: (err) => log?.warn({ err: { message: err.message } }, 'SQLite checkpoint thread stopped; checkpoints run on the server connection again') }
      : undefined,
    onConnectionError: (err) => log?.warn({ err: { message: err.message } }, 'database connection lost; it will be replaced'),
  });
  // Every service gets the client that joins an administrative change's transaction (src/db/transactions.ts).
  const transactions = ambientTransactions(storage.db);
  const { db } = transactions;
  const box = createSecretBox(kek.key);
  let clientSecretKey: Buffer;
  let recoveryKey: Buffer;
  let lockoutKey: Buffer;
  let artifactIdKey: Buffer;
  let linkKey: Buffer;
  let apiKeyHmacKey: Buffer;
  try {
    const secrets = await getOrCreateSecrets(db, box, [
      'client-secret-hmac-key',
      'recovery-code-hmac-key',
      'lockout-hmac-key',
      'artifact-id-hmac-key',
      'link-token-hmac-key',
      'api-key-hmac-key',
    ] as const);
    const key = (name: keyof typeof secrets) => Buffer.from(secrets[name], 'base64url');
    clientSecretKey = key('client-secret-hmac-key');
    recoveryKey = key('recovery-code-hmac-key');
    lockoutKey = key('lockout-hmac-key');
    artifactIdKey = key('artifact-id-hmac-key');
    linkKey = key('link-token-hmac-key');
    apiKeyHmacKey = key('api-key-hmac-key');
  } catch (err) {
    // A wrong key-encryption key, most likely: do not leave the pool open behind the error.
    await storage.close();
    throw err;
  }
  const clock = systemClock();
  const audit = createAuditService(db, hooks.onAudit, databaseKind(config.databaseUrl));
  const changes = createChangeTracker(db, clock);
  const secondFactor = createSecondFactorService(db, box, clock, { issuer: config.totpIssuer, recoveryKey });
  const lockout = createLockoutService(db, config.lockout, lockoutKey, clock);
  // Sessions ended outside the provider's logout: the server's back-channel sender listens.
  const sessionEndings = createSessionEndings(db, clock);
  const users = createUserService(db, storage.accounts, clock, { bcryptCost: config.bcryptCost, sessionEndings });
  // Without a logger (the CLI), mail that would be logged goes to stderr's JSON lines.
  const mailer = createMailer(config.mail, log ?? createLogger(config.logLevel, process.stderr), uiForMail);
  const accountLinks = createAccountLinkService({
    users,
    links: createLinkTokenService(db, linkKey, clock),
    mailer,
    throttle: createMailThrottle(db, config.rateLimits.email, linkKey, log),
    audit,
    lockout,
    config,
    clock,
  });
  const clients = createClientService(db, clientSecretKey, changes, clock, { allowInsecureRedirectUris: config.allowInsecureRedirectUris });
  const serviceAccounts = createServiceAccountService(db, box, changes, () => clock.now());
  // The admin API's resource is for machines only, whatever its row says.
  const resources = createResourceServerService(db, changes, { alwaysMachinesOnly: [adminApiResource(config.issuer)] });
  const sessions = createUserSessionService(db, clock, sessionEndings);
  const passkeys = createPasskeyService(db, clock, { issuer: config.issuer, rpName: config.totpIssuer, idKey: artifactIdKey });
  const tokenUsage = createTokenUsage(db, { failuresPerMinute: config.auditFailuresPerMinute, log, clock });
  const passwords = createPasswordVerifier({ db, changes, bcryptCost: config.bcryptCost, now: () => clock.now() });
  const apiKeys = createApiKeyService({
    db,
    keys: storage.apiKeys,
    hmacKey: apiKeyHmacKey,
    format: config.apiKeys,
    audit,
    resources,
    serviceAccounts,
    users,
    ownResource: config.apiResource,
    adminResource: adminApiResource(config.issuer),
    personMaxTtl: config.apiKeys.personMaxTtl,
    maxPerOwner: config.apiKeys.maxPerOwner,
    usage: tokenUsage,
    clock,
    log,
    changes,
    transaction: (fn) => transactions.inTransaction(fn),
  });
  const admin = createAdministration({
    issuer: config.issuer,
    keyRotationDelay: config.keyRotationDelay,
    db,
    box,
    audit,
    clients,
    users,
    sessions,
    secondFactor,
    passkeys,
    serviceAccounts,
    resources,
    accountLinks,
    apiKeys,
    userImporter: onFirstCall(async () =>
      (await import('./services/people/user-import.ts')).createUserImporter({
        db,
        dbKind: databaseKind(config.databaseUrl),
        secondFactor,
        changes,
        now: () => clock.now(),
      }),
    ),
    clientImporter: onFirstCall(async () =>
      (await import('./services/machines/client-import.ts')).createClientImporter({ clients, audit, describe: clientView }),
    ),
    apiKeyImporter: onFirstCall(async () => (await import('./services/api-keys/api-key-import.ts')).createApiKeyImporter({ apiKeys })),
    configFile: onFirstCall(async () =>
      (await import('./services/config/config-file.ts')).createConfigService({
        db,
        clients,
        resources,
        serviceAccounts,
        audit,
        builtInResources: [adminApiResource(config.issuer), config.apiResource],
      }),
    ),
    describe: { client: clientView, user: userView, serviceAccount: serviceAccountView, resource: resourceView },
    clock,
    transaction: async (fn) => {
      try {
        return await transactions.inTransaction(fn);
      } finally {
        changes.forget();
      }
    },
  });
  return {
    config,
    db,
    artifacts: storage.artifacts,
    settleWrites: storage.settleWrites,
    checkpoints: storage.checkpoints,
    box,
    users,
    clients,
    registrationTokens: createRegistrationTokenService(db, createHmac('sha256', clientSecretKey).update('registration-tokens').digest(), clock, audit),
    serviceAccounts,
    resources,
    sessions,
    sessionEndings,
    admin,
    tokenUsage,
    clock,
    audit,
    secondFactor,
    signIn: createSignInService({ db, lockout, secondFactor, audit, bcryptCost: config.bcryptCost, passwords, log }),
    passwords,
    lockout,
    loginState: createLoginStateService(db, config.ttl.interaction, artifactIdKey, clock),
    mailer,
    accountLinks,
    passkeys,
    apiKeys,
    get ui(): Ui {
      if (!ui) throw new Error('the pages are not loaded in this process (openRuntime with deferUi)');
      return ui;
    },
    artifactIdKey,
    appliedMigrations,
    generatedKekFile: kek.generatedAt,
    async close() {
      // Messages already handed over still go out before the pool closes.
      await mailer.flush();
      mailer.close();
      await storage.close();
    },
  };
}
