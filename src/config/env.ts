// Configuration: every setting comes from the environment, is validated once
// here, and is handed around as one frozen object. Each key documents its
// default where it is defined; `.env.example` lists the same variables.
import { readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import * as z from 'zod';
import { checkBrandColors, type BrandColors } from './brand-colors.ts';
import { parseDuration } from './durations.ts';

const seconds = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export interface RateLimit {
  points: number;
  seconds: number;
}

const rate = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx): RateLimit | undefined => {
      if (v === 'off') return undefined;
      const m = /^(\d+)\/(\d+)$/.exec(v);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
        ctx.addIssue({ code: 'custom', message: 'must be REQUESTS/SECONDS (e.g. 20/60) or off' });
        return z.NEVER;
      }
      return { points: Number(m[1]), seconds: Number(m[2]) };
    });

// A role's name, as src/services/people/users.ts checks it (checkRole).
const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const ROLE_MESSAGE = "must be 1–64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit";

/** RFC 8628's grant type. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const schema = z.object({
  /** `production` turns on secure cookies and refuses generated secrets. Default `development`. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** TCP port to listen on. Default 3000. `0` picks a free port (tests). */
  PORT: z
    .string()
    .default('3000')
    .refine((v) => /^\d{1,5}$/.test(v) && Number(v) <= 65535, 'must be a number from 1 to 65535')
    .transform(Number),
  /**
   * Address to bind. Default `127.0.0.1` (this machine only), or `0.0.0.0`
   * (every interface) when NODE_ENV=production: the Host check is no access
   * control, so a development server is not offered to the network unasked.
   */
  HOST: z.string().min(1).optional(),
  /** Public issuer URL, exactly as relying parties see it. Default `http://localhost:$PORT`. */
  ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  /** `file:…` → SQLite, `postgres://…` → PostgreSQL. Default `file:./data/latchkey.db`. */
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/)/, 'must start with file: (SQLite) or postgres:// (PostgreSQL)')
    .default('file:./data/latchkey.db'),
  /** PostgreSQL connections each node keeps (one pool for everything). Default 10. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Folder for generated development secrets. Default `./data`. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** base64 of 32 random bytes; encrypts private keys and secrets at rest. Required in production. */
  LATCHKEY_KEY_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be base64 of exactly 32 bytes (openssl rand -base64 32)')
    .optional(),
  /** bcrypt cost for password hashes. Default 12 (about 250 ms on one core). */
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  /** Threads that hash passwords, at PASSWORD_HASH_NICE (default the lowest CPU priority). Default: CPU cores − 1, at least 1. */
  PASSWORD_HASH_THREADS: z.coerce.number().int().min(1).max(64).optional(),
  /**
   * The password threads' nice value on Linux, 0–19. Default 19: hashing only
   * takes cycles nothing else wants, so a storm of sign-ins cannot starve token
   * requests. On a host whose other processes keep every core busy, 19 leaves
   * sign-ins waiting for them: lower it there, giving up some of that
   * protection. A thread cannot go below its process's own nice value.
   */
  PASSWORD_HASH_NICE: z.coerce.number().int().min(0).max(19).default(19),
  /** Believe `X-Forwarded-*` headers (only behind a proxy you run). Default false. */
  TRUST_PROXY: bool(false),
  /** Access token lifetime, seconds. Default 3600 (1 h). */
  ACCESS_TOKEN_TTL: seconds(3600),
  /** ID token lifetime, seconds. Default 3600 (1 h). */
  ID_TOKEN_TTL: seconds(3600),
  /** Refresh token lifetime, seconds. Default 1209600 (14 days). */
  REFRESH_TOKEN_TTL: seconds(14 * 24 * 3600),
  /** Authorization code lifetime, seconds. Default 60. */
  AUTHORIZATION_CODE_TTL: seconds(60),
  /** Single sign-on session lifetime, seconds. Default 1209600 (14 days). */
  SESSION_TTL: seconds(14 * 24 * 3600),
  /** How long a person has to finish logging in, seconds. Default 3600. */
  INTERACTION_TTL: seconds(3600),
  /** Longest accepted jwt-bearer assertion lifetime (exp − iat), seconds. Default 3600. */
  ASSERTION_MAX_LIFETIME: seconds(3600),
  /** Clock skew tolerated on iat, nbf and exp of assertions, seconds. Default 60. */
  CLOCK_SKEW: seconds(60, 0),
  /**
   * Resource (audience) for machine tokens when a request names none and the client has no default resource; must be registered.
   * Default: none (API scopes refused, else opaque tokens).
   */
  DEFAULT_RESOURCE: z.url().optional(),
  /**
   * Resource indicator (token audience) of Latchkey's own JSON API under /api/v1; registered
   * at start-up with the scopes its operations require. Default `$ISSUER/api`.
   */
  API_RESOURCE: z
    .url()
    .refine((v) => !v.includes('#'), 'must not contain a fragment')
    .optional(),
  /** First part of every API key (`lk_live_…`): lower-case letters and digits, 2–16, starting with a letter. Default `lk`. */
  API_KEY_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9]{1,15}$/, 'must be 2–16 lower-case letters or digits, starting with a letter')
    .default('lk'),
  /** Second part of every API key: which deployment it belongs to. Default `live` when NODE_ENV=production, else `test`. */
  API_KEY_ENV: z
    .string()
    .regex(/^[a-z0-9]{1,16}$/, 'must be 1–16 lower-case letters or digits')
    .optional(),
  /**
   * The longest a person's API key lives: seconds, or a duration (`365d`,
   * `52w`, `12h`). Longer expiries are refused, keys made without one get
   * 90 days (or this, when shorter), and existing keys stop this long after
   * their creation. Service accounts' keys are not limited. Default `365d`.
   */
  API_KEY_MAX_TTL: z
    .string()
    .default('365d')
    .transform((v, ctx) => {
      const seconds = /^\d+$/.test(v) ? Number(v) : parseDuration(v);
      if (seconds === undefined || seconds < 3600) {
        ctx.addIssue({ code: 'custom', message: 'must be at least an hour: seconds, or a duration such as 365d, 52w or 12h' });
        return z.NEVER;
      }
      return seconds;
    }),
  /** Live (unrevoked, unexpired) API keys one person or service account may have. Default 20. */
  API_KEY_MAX_PER_OWNER: z.coerce.number().int().min(1).max(10_000).default(20),
  /**
   * Creating a key through the JSON API needs an access token from a sign-in
   * at most this many seconds old (its `auth_time`); older ones get RFC 9470's
   * `insufficient_user_authentication` with this `max_age`. Default 300.
   */
  API_KEY_REAUTH_MAX_AGE: seconds(300),
  /** Issuer name shown in authenticator apps. Default: BRAND_NAME. */
  TOTP_ISSUER: z.string().min(1).max(64).optional(),
  /** Consecutive failed passwords or codes before an account is locked. Default 5. */
  LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  /** First lock duration, seconds; doubles with each further lock. Default 60. */
  LOCKOUT_BASE_SECONDS: seconds(60),
  /** Longest lock, seconds. Default 3600. */
  LOCKOUT_MAX_SECONDS: seconds(3600),
  /** Per-IP limits, `REQUESTS/SECONDS` or `off`. Login form posts. Default 20/60. */
  RATE_LIMIT_LOGIN: rate('20/60'),
  /** Second-factor code posts (TOTP, recovery, enrolment). Default 20/60. */
  RATE_LIMIT_CODE: rate('20/60'),
  /**
   * Token (and revocation) requests per client, counted in memory on each node. Default 5000/1: above what a
   * two-core node serves one client (1,000-1,400 token requests a second in bench/), so a busy client is not
   * throttled by it there; failures have their own tight budget (RATE_LIMIT_FAILURES).
   */
  RATE_LIMIT_TOKEN: rate('5000/1'),
  /** Introspection requests per client, counted in memory on each node. Default 5000/1. */
  RATE_LIMIT_INTROSPECTION: rate('5000/1'),
  /** Failed token, introspection and revocation requests, per address and per client, shared by all nodes. Default 30/60. */
  RATE_LIMIT_FAILURES: rate('30/60'),
  /** Account page changes (password, second factor, apps). Default 30/60. */
  RATE_LIMIT_ACCOUNT: rate('30/60'),
  /** Authorization requests per address (each may store a sign-in in progress), in memory on each node. Default 600/60. */
  RATE_LIMIT_AUTHORIZE: rate('600/60'),
  /**
   * Form posts that send mail (sign-up, forgotten password, a new confirmation
   * link), per address; the same budget caps the mails one recipient gets.
   * Default 10/900.
   */
  RATE_LIMIT_EMAIL: rate('10/900'),
  /** API keys a person may create (account page, JSON API), per person, shared by all nodes. Default 10/3600. */
  RATE_LIMIT_API_KEYS: rate('10/3600'),
  /** Posts of the device page (/device: user codes typed, confirmations), per address, shared by all nodes. Default 10/60. */
  RATE_LIMIT_DEVICE: rate('10/60'),
  /** Who may create an account: `open` (anyone, sign-up page), `invite` (operators' invitation links), `off`. Default `off`. */
  REGISTRATION: z.enum(['open', 'invite', 'off']).default('off'),
  /** A person whose email is not confirmed must confirm it before a sign-in completes. Default false. */
  REQUIRE_VERIFIED_EMAIL: bool(false),
  /**
   * Where mail is sent: `smtp://user:pass@host:587` (STARTTLS when offered),
   * `smtps://…:465`. Unset: mail is written to the log instead (development
   * only; in production, features that send mail are then off). Default: unset.
   */
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  /** From address of Latchkey's mail, `Name <address>` or an address. Default `Latchkey <no-reply@ISSUER's host>`. */
  MAIL_FROM: z.string().min(3).max(200).optional(),
  /** How long a sign-up or email confirmation link works, seconds. Default 86400 (a day). */
  EMAIL_VERIFICATION_TTL: seconds(24 * 3600, 60),
  /** How long a password reset link works, seconds. Default 1800 (30 minutes). */
  PASSWORD_RESET_TTL: seconds(1800, 60),
  /** How long an invitation link works, seconds. Default 604800 (7 days). */
  INVITATION_TTL: seconds(7 * 24 * 3600, 60),
  /** Cache-Control max-age of the JWKS response, seconds. Default 600. */
  JWKS_MAX_AGE: seconds(600, 0),
  /** How long a rotated-in key is published before it signs, seconds. Default: JWKS_MAX_AGE. */
  KEY_ROTATION_DELAY: z.coerce.number().int().min(0).optional(),
  /** How often each node advances key stages and reloads keys, seconds. Default 30. */
  KEY_REFRESH_INTERVAL: seconds(30),
  /** Audit rows older than this many days are deleted by the sweep. Default 90. */
  AUDIT_RETENTION_DAYS: seconds(90),
  /** How often token-issuance counts and failure rows are written to the audit trail, seconds (a crash loses at most this much). Default 5. */
  AUDIT_FLUSH_INTERVAL: seconds(5),
  /**
   * Failed token/introspection/revocation requests kept as audit rows per client per minute on each node (ten times that for all
   * clients); the rest are tallied. Default 10.
   */
  AUDIT_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  /**
   * Port of the operators' listener: /metrics and a detailed /readyz. Default
   * 9464 (on METRICS_HOST, loopback). `off` turns it off; `0` picks a free
   * port; the main PORT serves /metrics on the public listener, which then
   * requires METRICS_TOKEN.
   */
  METRICS_PORT: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)], { error: 'must be a port number (0–65535) or off' }).default(9464),
  /** Address the operators' listener binds. Default `127.0.0.1` (this machine only). */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** When set, /metrics requires `Authorization: Bearer <token>` (compared in constant time). Default: unset. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Accept `http://` redirect URIs for hosts other than loopback (RFC 8252 allows loopback only). Development only. Default false. */
  ALLOW_INSECURE_REDIRECT_URIS: bool(false),
  /**
   * Latchkey's requests to apps (back-channel logout tokens) may go to
   * loopback, private and link-local addresses. Off, oidc-provider's SSRF
   * protection refuses them. Default false.
   */
  ALLOW_PRIVATE_NETWORK_FETCH: bool(false),
  /**
   * A refresh token used again within this many seconds, by the client it was
   * issued to, gets the successor already issued (a retry after a lost
   * answer, two tabs refreshing at once) instead of revoking the grant. 0:
   * every reuse revokes. Default 5.
   */
  REFRESH_REUSE_GRACE: seconds(5, 0),
  /** Device authorization grant (RFC 8628): how long a device code and its user code work, seconds. Default 600. */
  DEVICE_CODE_TTL: seconds(600, 60),
  /** The polling `interval` devices are told, seconds; a device polling faster gets `slow_down`. Default 5. */
  DEVICE_POLL_INTERVAL: seconds(5, 1),
  /**
   * Self-registered clients (MCP clients and the like; src/oidc/self-registered-clients.ts).
   * CLIENT_ID_METADATA_DOCUMENTS: `false` (default), `true` (any https client_id
   * URL), or allowed URL prefixes separated by spaces or commas.
   */
  CLIENT_ID_METADATA_DOCUMENTS: z.string().default('false'),
  /** Metadata documents may be fetched from loopback, private and link-local addresses. Development and tests only. Default false. */
  CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE: bool(false),
  /** A PEM file of certificate authorities trusted, beside the system's, for metadata documents (an internal CA). Default: unset. */
  CLIENT_ID_METADATA_DOCUMENTS_CA_FILE: z.string().min(1).optional(),
  /** Largest metadata document accepted, bytes. Default 5120. */
  CLIENT_ID_METADATA_DOCUMENTS_MAX_BYTES: z.coerce.number().int().min(512).max(65536).default(5120),
  /**
   * Dynamic client registration (RFC 7591/7592) at /reg: `off` (default), `open`,
   * or `token` (an initial access token from `client registration-token create`).
   */
  DYNAMIC_CLIENT_REGISTRATION: z.enum(['off', 'open', 'token']).default('off'),
  /** API scopes self-registered clients may ask for (space-separated). Default: none. */
  SELF_REGISTERED_CLIENT_API_SCOPES: z.string().default(''),
  /** A dynamically registered client holding no grant or token this many days after its registration is deleted. Default 30. */
  DYNAMIC_CLIENT_UNUSED_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Seconds a sign-in page opened by someone not yet signed in is kept (its stored interaction expires then). Default 900. */
  LOGIN_INTERACTION_TTL: seconds(900, 60),
  /** How often expired rows are deleted, seconds. Default 300. */
  SWEEP_INTERVAL: seconds(300),
  /** The product's name on every page, mail, authenticator app and passkey. Default `Latchkey`. */
  BRAND_NAME: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .refine((v) => !/[\p{Cc}<>]/u.test(v), 'must be one line of text without < or >')
    .default('Latchkey'),
  /** The product's logo: a file (SVG, PNG, JPEG, WebP or GIF, at most 512 KB) or an https:// URL. Default: none (the name alone). */
  BRAND_LOGO: z.string().min(1).optional(),
  /**
   * Accent colour (`#rrggbb`) of links, buttons and focus rings. Must have
   * 4.5:1 against white (WCAG AA), or start-up refuses it and names the
   * nearest colour that passes. Default `#2456d3`.
   */
  BRAND_COLOR: z.string().default('#2456d3'),
  /** Accent colour in the dark scheme; must have 4.5:1 against its dark background. Default: BRAND_COLOR, lightened until it has. */
  BRAND_COLOR_DARK: z.string().optional(),
  /** Where people get help: linked from every page's footer. Default: none. */
  BRAND_SUPPORT_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The role (`user add-role`) whose holders may use the admin console (/admin) in full. Default `latchkey-admin`. */
  ADMIN_ROLE: z.string().regex(ROLE_NAME, ROLE_MESSAGE).default('latchkey-admin'),
  /** The role whose holders may read the admin console and change nothing. Default `latchkey-auditor`. */
  AUDITOR_ROLE: z.string().regex(ROLE_NAME, ROLE_MESSAGE).default('latchkey-auditor'),
  /**
   * A change through the admin console needs a second factor used at most
   * this many minutes ago; older sessions are sent to sign in again. Default 15.
   */
  ADMIN_REAUTH: z.coerce.number().int().min(1).max(1440).default(15),
  /**
   * Serve the admin console on a listener of its own, on this port (on
   * ADMIN_CONSOLE_HOST, loopback by default), instead of under /admin on the
   * main listener, which then answers 404 there. Default: unset (under /admin).
   */
  ADMIN_CONSOLE_PORT: z.coerce.number({ error: 'must be a port number (1–65535)' }).int().min(1).max(65535).optional(),
  /** Address the console's own listener binds. Default `127.0.0.1` (this machine only). */
  ADMIN_CONSOLE_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * The console's own listener as the browser reaches it (an SSH tunnel, a
   * proxy on an internal name), where sign-in comes back to. Default
   * `http://ADMIN_CONSOLE_HOST:ADMIN_CONSOLE_PORT`.
   */
  ADMIN_CONSOLE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Privacy policy, linked from the footer, sign-up and consent. Default: none. */
  BRAND_PRIVACY_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Terms of service, linked from the footer, sign-up and consent. Default: none. */
  BRAND_TERMS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * A folder whose templates (`*.njk`, `mail/*.njk`), assets (`assets/…`)
   * and languages (`locales/<lang>.json`) override the built-in ones file by
   * file (docs/configuration.md, "Themes"). Default: none.
   */
  THEME_DIR: z.string().min(1).optional(),
  /** Language of pages and mail when neither the request, the person nor the browser names one Latchkey has. Default `en`. */
  DEFAULT_LOCALE: z
    .string()
    .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a language tag such as en, de or pt-BR')
    .default('en'),
  /** pino log level. Default `info`. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof schema>;
export type RateLimitName = 'login' | 'code' | 'token' | 'introspection' | 'failures' | 'account' | 'authorize' | 'email' | 'apiKeys' | 'device';

export interface Config {
  readonly production: boolean;
  readonly nodeEnv: Env['NODE_ENV'];
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  /** Settings that work but are probably not what was meant: printed at start-up. */
  readonly warnings: readonly string[];
  readonly databaseUrl: string;
  readonly databasePoolSize: number;
  readonly dataDir: string;
  readonly keyEncryptionKey: Buffer | undefined;
  readonly bcryptCost: number;
  /** Undefined: CPU cores − 1, at least 1 (src/services/people/password-workers.ts). */
  readonly passwordHashThreads: number | undefined;
  /** Nice value of the password threads (Linux); 19 unless set. */
  readonly passwordHashNice: number;
  readonly trustProxy: boolean;
  readonly secureCookies: boolean;
  readonly ttl: Readonly<{
    accessToken: number;
    idToken: number;
    refreshToken: number;
    authorizationCode: number;
    session: number;
    interaction: number;
    loginInteraction: number;
  }>;
  readonly assertionMaxLifetime: number;
  readonly clockSkew: number;
  readonly defaultResource: string | undefined;
  readonly apiKeys: Readonly<{ prefix: string; env: string; reauthMaxAge: number; personMaxTtl: number; maxPerOwner: number }>;
  /** Audience of access tokens for Latchkey's own JSON API. */
  readonly apiResource: string;
  /** Every setting as it took effect, for the admin console's Settings page (secrets only as set or not). */
  readonly settings: readonly EffectiveSetting[];
  /** Who may use the admin console, and how recent a change's second factor must be (seconds). */
  readonly console: Readonly<{
    adminRole: string;
    auditorRole: string;
    reauthSeconds: number;
    /** The console's own listener (ADMIN_CONSOLE_PORT), when it is not under /admin on the main one. */
    listener: Readonly<{ port: number; host: string; url: string }> | undefined;
  }>;
  readonly totpIssuer: string;
  readonly lockout: Readonly<{ threshold: number; baseSeconds: number; maxSeconds: number }>;
  readonly rateLimits: Readonly<Record<RateLimitName, RateLimit | undefined>>;
  readonly jwksMaxAge: number;
  readonly keyRotationDelay: number;
  readonly keyRefreshIntervalMs: number;
  readonly auditRetentionDays: number;
  readonly auditFlushIntervalMs: number;
  readonly auditFailuresPerMinute: number;
  /** The operators' listener's port; undefined when off or when metrics are on the main listener. */
  readonly metricsPort: number | undefined;
  /** /metrics on the main listener (METRICS_PORT = PORT), behind METRICS_TOKEN. */
  readonly metricsOnMainPort: boolean;
  readonly metricsHost: string;
  readonly metricsToken: string | undefined;
  readonly allowInsecureRedirectUris: boolean;
  /** Outbound requests to apps may reach loopback and private addresses (ALLOW_PRIVATE_NETWORK_FETCH). */
  readonly allowPrivateNetworkFetch: boolean;
  /** Seconds within which a refresh token's reuse by its client gets the successor already issued; 0: off. */
  readonly refreshReuseGrace: number;
  readonly deviceFlow: Readonly<{ codeTtl: number; pollInterval: number }>;
  /** Clients that identify themselves: metadata documents and dynamic registration. */
  readonly selfRegistered: Readonly<{
    /** Off: undefined; on: the allowed URL prefixes (empty: any https URL). */
    metadataDocuments: readonly string[] | undefined;
    allowPrivateAddresses: boolean;
    /** PEM text of extra certificate authorities for metadata document fetches. */
    extraCa: string | undefined;
    maxDocumentBytes: number;
    registration: 'off' | 'open' | 'token';
    apiScope: string;
    unusedDays: number;
  }>;
  readonly registration: 'open' | 'invite' | 'off';
  readonly requireVerifiedEmail: boolean;
  readonly mail: Readonly<{
    /** undefined: messages go to the log (development and tests only). */
    smtpUrl: string | undefined;
    from: string;
  }>;
  /** Mail can reach people: an SMTP server, or the log outside production. */
  readonly mailEnabled: boolean;
  readonly linkTtl: Readonly<{ verification: number; passwordReset: number; invitation: number }>;
  readonly sweepIntervalMs: number;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly brand: Readonly<{
    name: string;
    /** A file to serve under /assets, or an https URL. */
    logo: { file: string; type: string } | { url: string } | undefined;
    colors: BrandColors;
    supportUrl: string | undefined;
    privacyUrl: string | undefined;
    termsUrl: string | undefined;
  }>;
  readonly themeDir: string | undefined;
  readonly defaultLocale: string;
}

/** localhost, 127.0.0.0/8 or ::1 (with or without brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * What is wrong with a DATABASE_URL that the driver would misread (it would
 * fail later naming a host or a file instead). Never repeats the URL: it may
 * hold a password.
 */
function checkDatabaseUrl(url: string): string | undefined {
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length).split('?')[0]!;
    return path ? undefined : 'names no file (e.g. file:./data/latchkey.db)';
  }
  // An unencoded # ends the URL there (the rest is a fragment): `pa#ss@db` would become the host `pa`.
  if (url.includes('#')) {
    return "contains '#': percent-encode special characters in the user name and password (# as %23, @ as %40, / as %2F, ? as %3F, : as %3A)";
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL: postgres://USER:PASSWORD@HOST:5432/DATABASE, with special characters in USER and PASSWORD percent-encoded';
  }
  if (!parsed.hostname) return 'names no host: postgres://USER:PASSWORD@HOST:5432/DATABASE';
  return undefined;
}

/**
 * CLIENT_ID_METADATA_DOCUMENTS: undefined when off, [] for any https URL,
 * else the allowed prefixes; null when a value is not an https URL.
 */
function metadataDocumentPrefixes(value: string): string[] | undefined | null {
  const v = value.trim();
  if (['', 'false', '0', 'no', 'off'].includes(v)) return undefined;
  if (['true', '1', 'yes', 'on'].includes(v)) return [];
  const prefixes = v.split(/[\s,]+/).filter(Boolean);
  return prefixes.every((p) => URL.canParse(p) && new URL(p).protocol === 'https:') ? prefixes : null;
}

function isReadableFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const LOGO_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};
const MAX_LOGO_BYTES = 512 * 1024;

/** BRAND_LOGO as a file or a URL, or what is wrong with it. */
function brandLogo(value: string | undefined, production: boolean): Config['brand']['logo'] | string {
  if (value === undefined) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return 'is not a valid URL';
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && !production && isLoopbackHost(url.hostname))) return { url: url.href };
    return 'must be an https:// URL (or a file)';
  }
  const type = LOGO_TYPES[extname(value).toLowerCase()];
  if (!type) return `${value} must be an SVG, PNG, JPEG, WebP or GIF file (by its extension)`;
  try {
    const info = statSync(value);
    if (!info.isFile()) return `${value} is not a file`;
    if (info.size > MAX_LOGO_BYTES) return `${value} is larger than 512 KB`;
  } catch {
    return `${value} does not exist`;
  }
  return { file: resolve(value), type };
}

/** A mail display name: as it is when it is only letters, digits and spaces, else quoted (RFC 5322). */
function displayName(name: string): string {
  return /^[\p{L}\p{N} ]+$/u.test(name) ? name : `"${name.replace(/["\\]/g, '')}"`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
/** Settings whose value is a secret or may hold one (a password in a URL): shown only as set or not. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set(['DATABASE_URL', 'LATCHKEY_KEY_ENCRYPTION_KEY', 'SMTP_URL', 'METRICS_TOKEN']);

export interface EffectiveSetting {
  name: string;
  /** As given in the environment, or the value in effect when not given; undefined for a secret, and for a setting that is off or unset. */
  value: string | undefined;
  source: 'environment' | 'default';
  secret: boolean;
}

function effectiveSettings(env: Record<string, string>, e: Env): EffectiveSetting[] {
  const shown = (v: unknown): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object' && 'points' in v && 'seconds' in v) return `${(v as RateLimit).points}/${(v as RateLimit).seconds}`;
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  return Object.keys(schema.shape)
    .sort()
    .map((name) => {
      const secret = SECRET_SETTINGS.has(name);
      const given = env[name];
      return {
        name,
        value: secret ? undefined : (given ?? shown(e[name as keyof Env])),
        source: given === undefined ? 'default' : 'environment',
        secret,
      };
    });
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings (`FOO=` in a .env file) mean "not set".
  const env = Object.fromEntries(Object.entries(source).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
  const e = parseEach(env);
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const metricsOnMainPort = e.METRICS_PORT !== 'off' && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT;
  const brand = brandFrom(e);
  const problems = [...problemsAcross(e, env, issuer, metricsOnMainPort), ...brand.problems];
  if (problems.length || !('colors' in brand)) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return configFrom(e, issuer, metricsOnMainPort, warningsFor(e, issuer), brand, effectiveSettings(env, e));
}

/** Each variable on its own: its type, range and default (the schema above). */
function parseEach(env: Record<string, string>): Env {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The rules that span several variables, each problem naming the variable to change. */
function problemsAcross(e: Env, env: Record<string, string>, issuer: string, metricsOnMainPort: boolean): string[] {
  const production = e.NODE_ENV === 'production';
  const problems: string[] = [];
  if (e.ADMIN_CONSOLE_PORT !== undefined && (e.ADMIN_CONSOLE_PORT === e.PORT || e.ADMIN_CONSOLE_PORT === e.METRICS_PORT)) {
    problems.push('  ADMIN_CONSOLE_PORT: must differ from PORT and METRICS_PORT (unset it to serve the console under /admin on the main listener)');
  }
  if (e.ADMIN_CONSOLE_PORT === undefined && (env.ADMIN_CONSOLE_HOST !== undefined || e.ADMIN_CONSOLE_URL !== undefined)) {
    problems.push('  ADMIN_CONSOLE_PORT: required when ADMIN_CONSOLE_HOST or ADMIN_CONSOLE_URL is set');
  }
  if (e.ADMIN_ROLE === e.AUDITOR_ROLE) {
    problems.push('  AUDITOR_ROLE: must differ from ADMIN_ROLE (an auditor may only read the admin console)');
  }
  if (production && !e.LATCHKEY_KEY_ENCRYPTION_KEY) {
    problems.push('  LATCHKEY_KEY_ENCRYPTION_KEY: required when NODE_ENV=production (openssl rand -base64 32)');
  }
  if (production && !issuer.startsWith('https://')) {
    problems.push('  ISSUER: must be an https:// URL when NODE_ENV=production');
  }
  if (issuer.startsWith('https://') && !e.TRUST_PROXY) {
    // Latchkey itself speaks plain HTTP, so an https issuer means a TLS proxy in
    // front; without trusting its X-Forwarded-Proto every Secure cookie fails.
    problems.push('  TRUST_PROXY: must be true when ISSUER is https:// (Latchkey serves plain HTTP behind your TLS-terminating proxy)');
  }
  const databaseUrlProblem = checkDatabaseUrl(e.DATABASE_URL);
  if (databaseUrlProblem) problems.push(`  DATABASE_URL: ${databaseUrlProblem}`);
  if (new URL(issuer).search || new URL(issuer).hash) {
    problems.push('  ISSUER: must not have a query or fragment');
  }
  if (new URL(issuer).pathname !== '/') {
    // Every endpoint is served at the root of the host, and every request must be addressed to the issuer.
    problems.push('  ISSUER: must be a scheme and host (and port) without a path, e.g. https://id.example.com');
  }
  if (metricsOnMainPort && !e.METRICS_TOKEN) {
    problems.push(
      env.METRICS_PORT === undefined
        ? `  METRICS_PORT: its default, ${e.METRICS_PORT}, is also PORT; ` +
            'set METRICS_PORT to another port or off (or METRICS_TOKEN, to serve metrics on the main port)'
        : '  METRICS_TOKEN: required when METRICS_PORT is the main PORT (metrics on the public listener need a token)',
    );
  }
  if (e.METRICS_PORT !== 'off' && !metricsOnMainPort && !isLoopbackHost(e.METRICS_HOST) && !e.METRICS_TOKEN) {
    problems.push(
      `  METRICS_TOKEN: required when METRICS_HOST (${e.METRICS_HOST}) is not a loopback address: the operators' listener would be open to the network`,
    );
  }
  // In production, mail printed to the log would hand links to whoever reads
  // the logs: features that need mail need an SMTP server there.
  if (production && !e.SMTP_URL && e.REGISTRATION !== 'off') {
    problems.push(`  SMTP_URL: required when NODE_ENV=production and REGISTRATION=${e.REGISTRATION} (sign-up and invitation links are sent by mail)`);
  }
  if (production && !e.SMTP_URL && e.REQUIRE_VERIFIED_EMAIL) {
    problems.push('  SMTP_URL: required when NODE_ENV=production and REQUIRE_VERIFIED_EMAIL=true (confirmation links are sent by mail)');
  }
  if (e.MAIL_FROM !== undefined && !/^([^<>]*<)?[^\s@<>]+@[^\s@<>]+>?$/.test(e.MAIL_FROM.trim())) {
    problems.push('  MAIL_FROM: must be an address (no-reply@example.com) or "Name <no-reply@example.com>"');
  }
  if (production && e.ALLOW_INSECURE_REDIRECT_URIS) {
    problems.push('  ALLOW_INSECURE_REDIRECT_URIS: not allowed when NODE_ENV=production');
  }
  // Self-registered clients: metadata documents must be https prefixes, and never fetched from private addresses in production.
  const prefixes = metadataDocumentPrefixes(e.CLIENT_ID_METADATA_DOCUMENTS);
  if (prefixes === null) {
    problems.push(
      '  CLIENT_ID_METADATA_DOCUMENTS: must be true, false, or https:// URL prefixes separated by spaces or commas (e.g. https://mcp.example.com/)',
    );
  }
  if (production && e.CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE) {
    problems.push(
      '  CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE: not allowed when NODE_ENV=production (it lets anyone make Latchkey fetch from your internal network)',
    );
  }
  if (e.CLIENT_ID_METADATA_DOCUMENTS_CA_FILE !== undefined && !isReadableFile(e.CLIENT_ID_METADATA_DOCUMENTS_CA_FILE)) {
    problems.push(`  CLIENT_ID_METADATA_DOCUMENTS_CA_FILE: ${e.CLIENT_ID_METADATA_DOCUMENTS_CA_FILE} is not a readable file`);
  }
  return problems;
}

type BrandChecked = { colors: BrandColors; logo: Config['brand']['logo'] };

/** The brand's colours and logo, checked (BRAND_COLOR, BRAND_COLOR_DARK, BRAND_LOGO, THEME_DIR): what is wrong, or what to serve. */
function brandFrom(e: Env): { problems: string[] } | ({ problems: [] } & BrandChecked) {
  const problems: string[] = [];
  const colors = checkBrandColors(e.BRAND_COLOR, e.BRAND_COLOR_DARK);
  if (!colors.ok) problems.push(...colors.problems.map((p) => `  ${p}`));
  const logo = brandLogo(e.BRAND_LOGO, e.NODE_ENV === 'production');
  if (typeof logo === 'string') problems.push(`  BRAND_LOGO: ${logo}`);
  if (e.THEME_DIR !== undefined && !isDirectory(e.THEME_DIR)) problems.push(`  THEME_DIR: ${e.THEME_DIR} is not a folder`);
  if (problems.length || !colors.ok || typeof logo === 'string') return { problems };
  return { problems: [], colors: colors.colors, logo };
}

/** Settings that work but are probably not what was meant: printed at start-up. */
function warningsFor(e: Env, issuer: string): string[] {
  const warnings: string[] = [];
  if (e.CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE) {
    warnings.push(
      'CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE=true: anyone who can reach /auth can make Latchkey fetch from loopback and private addresses. ' +
        'Development and tests only.',
    );
  }
  // Every request must be addressed to the issuer (its Host, port included): an
  // ISSUER copied from .env.example with another PORT answers 400 to everything.
  const issuerUrl = new URL(issuer);
  const issuerPort = Number(issuerUrl.port || (issuerUrl.protocol === 'https:' ? 443 : 80));
  if (e.ISSUER && !e.TRUST_PROXY && e.PORT !== 0 && issuerPort !== e.PORT) {
    warnings.push(
      `ISSUER ${issuer} names port ${issuerPort} but Latchkey listens on PORT ${e.PORT}: ` +
        `requests to port ${e.PORT} will be refused (400, not addressed to the issuer). ` +
        `Set ISSUER to http://${issuerUrl.hostname}:${e.PORT} or leave it unset, or set TRUST_PROXY=true if a proxy serves the issuer's port.`,
    );
  }
  return warnings;
}

/** The typed, frozen configuration the rest of Latchkey reads. */
function configFrom(
  e: Env,
  issuer: string,
  metricsOnMainPort: boolean,
  warnings: string[],
  { colors, logo }: BrandChecked,
  settings: EffectiveSetting[],
): Config {
  const production = e.NODE_ENV === 'production';
  return Object.freeze({
    production,
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    issuer,
    warnings: Object.freeze(warnings),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir: e.DATA_DIR,
    keyEncryptionKey: e.LATCHKEY_KEY_ENCRYPTION_KEY ? Buffer.from(e.LATCHKEY_KEY_ENCRYPTION_KEY, 'base64') : undefined,
    bcryptCost: e.BCRYPT_COST,
    passwordHashThreads: e.PASSWORD_HASH_THREADS,
    passwordHashNice: e.PASSWORD_HASH_NICE,
    trustProxy: e.TRUST_PROXY,
    secureCookies: production || issuer.startsWith('https://'),
    ttl: Object.freeze({
      accessToken: e.ACCESS_TOKEN_TTL,
      idToken: e.ID_TOKEN_TTL,
      refreshToken: e.REFRESH_TOKEN_TTL,
      authorizationCode: e.AUTHORIZATION_CODE_TTL,
      session: e.SESSION_TTL,
      interaction: e.INTERACTION_TTL,
      loginInteraction: Math.min(e.LOGIN_INTERACTION_TTL, e.INTERACTION_TTL),
    }),
    assertionMaxLifetime: e.ASSERTION_MAX_LIFETIME,
    clockSkew: e.CLOCK_SKEW,
    defaultResource: e.DEFAULT_RESOURCE,
    apiResource: e.API_RESOURCE ?? `${issuer}/api`,
    apiKeys: Object.freeze({
      prefix: e.API_KEY_PREFIX,
      env: e.API_KEY_ENV ?? (production ? 'live' : 'test'),
      reauthMaxAge: e.API_KEY_REAUTH_MAX_AGE,
      personMaxTtl: e.API_KEY_MAX_TTL,
      maxPerOwner: e.API_KEY_MAX_PER_OWNER,
    }),
    settings: Object.freeze(settings.map((x) => Object.freeze(x))),
    console: Object.freeze({
      adminRole: e.ADMIN_ROLE,
      auditorRole: e.AUDITOR_ROLE,
      reauthSeconds: e.ADMIN_REAUTH * 60,
      listener:
        e.ADMIN_CONSOLE_PORT === undefined
          ? undefined
          : Object.freeze({
              port: e.ADMIN_CONSOLE_PORT,
              host: e.ADMIN_CONSOLE_HOST,
              url: new URL(
                e.ADMIN_CONSOLE_URL ??
                  `http://${e.ADMIN_CONSOLE_HOST.includes(':') ? `[${e.ADMIN_CONSOLE_HOST}]` : e.ADMIN_CONSOLE_HOST}:${e.ADMIN_CONSOLE_PORT}`,
              ).origin,
            }),
    }),
    totpIssuer: e.TOTP_ISSUER ?? e.BRAND_NAME,
    lockout: Object.freeze({ threshold: e.LOCKOUT_THRESHOLD, baseSeconds: e.LOCKOUT_BASE_SECONDS, maxSeconds: e.LOCKOUT_MAX_SECONDS }),
    rateLimits: Object.freeze({
      login: e.RATE_LIMIT_LOGIN,
      code: e.RATE_LIMIT_CODE,
      token: e.RATE_LIMIT_TOKEN,
      introspection: e.RATE_LIMIT_INTROSPECTION,
      failures: e.RATE_LIMIT_FAILURES,
      account: e.RATE_LIMIT_ACCOUNT,
      authorize: e.RATE_LIMIT_AUTHORIZE,
      email: e.RATE_LIMIT_EMAIL,
      apiKeys: e.RATE_LIMIT_API_KEYS,
      device: e.RATE_LIMIT_DEVICE,
    }),
    jwksMaxAge: e.JWKS_MAX_AGE,
    keyRotationDelay: e.KEY_ROTATION_DELAY ?? e.JWKS_MAX_AGE,
    keyRefreshIntervalMs: e.KEY_REFRESH_INTERVAL * 1000,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    auditFlushIntervalMs: e.AUDIT_FLUSH_INTERVAL * 1000,
    auditFailuresPerMinute: e.AUDIT_FAILURES_PER_MINUTE,
    metricsPort: e.METRICS_PORT === 'off' || metricsOnMainPort ? undefined : e.METRICS_PORT,
    metricsOnMainPort,
    metricsHost: e.METRICS_HOST,
    metricsToken: e.METRICS_TOKEN,
    allowInsecureRedirectUris: e.ALLOW_INSECURE_REDIRECT_URIS,
    allowPrivateNetworkFetch: e.ALLOW_PRIVATE_NETWORK_FETCH,
    refreshReuseGrace: e.REFRESH_REUSE_GRACE,
    deviceFlow: Object.freeze({ codeTtl: e.DEVICE_CODE_TTL, pollInterval: e.DEVICE_POLL_INTERVAL }),
    selfRegistered: Object.freeze({
      metadataDocuments: metadataDocumentPrefixes(e.CLIENT_ID_METADATA_DOCUMENTS) ?? undefined,
      allowPrivateAddresses: e.CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE,
      extraCa: e.CLIENT_ID_METADATA_DOCUMENTS_CA_FILE === undefined ? undefined : readFileSync(e.CLIENT_ID_METADATA_DOCUMENTS_CA_FILE, 'utf8'),
      maxDocumentBytes: e.CLIENT_ID_METADATA_DOCUMENTS_MAX_BYTES,
      registration: e.DYNAMIC_CLIENT_REGISTRATION,
      apiScope: e.SELF_REGISTERED_CLIENT_API_SCOPES.trim().split(/\s+/).filter(Boolean).join(' '),
      unusedDays: e.DYNAMIC_CLIENT_UNUSED_DAYS,
    }),
    registration: e.REGISTRATION,
    requireVerifiedEmail: e.REQUIRE_VERIFIED_EMAIL,
    mail: Object.freeze({
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM?.trim() ?? `${displayName(e.BRAND_NAME)} <no-reply@${new URL(issuer).hostname}>`,
    }),
    mailEnabled: Boolean(e.SMTP_URL) || !production,
    linkTtl: Object.freeze({
      verification: e.EMAIL_VERIFICATION_TTL,
      passwordReset: e.PASSWORD_RESET_TTL,
      invitation: e.INVITATION_TTL,
    }),
    sweepIntervalMs: e.SWEEP_INTERVAL * 1000,
    logLevel: e.LOG_LEVEL,
    brand: Object.freeze({
      name: e.BRAND_NAME,
      logo,
      colors,
      supportUrl: e.BRAND_SUPPORT_URL,
      privacyUrl: e.BRAND_PRIVACY_URL,
      termsUrl: e.BRAND_TERMS_URL,
    }),
    themeDir: e.THEME_DIR === undefined ? undefined : resolve(e.THEME_DIR),
    defaultLocale: e.DEFAULT_LOCALE,
  });
}
