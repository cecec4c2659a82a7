// One internal error type. Whatever refuses a request, in any layer, throws
// an AppError: a stable code, an HTTP status and a message that is safe to
// show to the person, operator or integrator (never a secret), plus what a
// JSON API answer needs beyond that. Each output maps it in one place:
//   pages (and their JSON fallback)       src/middleware/koa-error-handler.ts
//   RFC 9457 problem+json (JSON APIs)     src/api/problem.ts (problemBody)
//   OAuth JSON (token endpoint, provider) src/oidc/oauth-errors.ts
//   the admin CLI                         src/cli/index.ts
// Anything else thrown is a bug: logged, and answered as a generic 500.

/** OAuth 2.0 error codes (RFC 6749 §5.2, RFC 8707 §2) that grants and provider hooks refuse with. */
const OAUTH_ERROR_CODES = ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'invalid_scope', 'invalid_target'] as const;
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

const statusFor = {
  invalid_input: 400,
  // The sign-in request a page belongs to is gone: see InteractionGone.
  session_not_found: 400,
  unauthorized: 401,
  forbidden: 403,
  csrf: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  too_large: 413,
  unsupported_media_type: 415,
  precondition_required: 428,
  too_many_requests: 429,
  // OAuth refusals are answered 400 by src/oidc/oauth-errors.ts, as the provider answers its own.
  invalid_request: 400,
  invalid_client: 400,
  invalid_grant: 400,
  unauthorized_client: 400,
  invalid_scope: 400,
  invalid_target: 400,
} as const satisfies Record<string, number>;

export type AppErrorCode = keyof typeof statusFor;
export type AppErrorStatus = (typeof statusFor)[AppErrorCode];

// (The predicate does not compile unless every OAuth code is an AppErrorCode.)
export const isOAuthErrorCode = (code: AppErrorCode): code is OAuthErrorCode => (OAUTH_ERROR_CODES as readonly string[]).includes(code);

/** One bad field of a request (RFC 9457 §3's extension member `errors`). */
export interface FieldError {
  /** Where the field was: the JSON body, the query string or the path. */
  in: 'body' | 'query' | 'path' | 'header';
  /** JSON Pointer (RFC 6901) to the field within that part, as a URI fragment: `#/scopes/0`. */
  pointer: string;
  /** The same path in dotted form (`scopes.0`), empty for the whole part. */
  field: string;
  detail: string;
}

/** What a JSON API answer carries besides the code and message. */
export interface ErrorDetails {
  /** A more specific kind of problem than the status's, e.g. `validation` (urn:latchkey:problem:validation). */
  kind?: string;
  title?: string;
  /** Each bad field of the request. */
  fields?: FieldError[];
  /** Response headers the answer needs, e.g. WWW-Authenticate, Retry-After, Allow. */
  headers?: Record<string, string>;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly status: AppErrorStatus;
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.status = statusFor[code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string) => new AppError('conflict', message);
export const invalidInput = (message: string) => new AppError('invalid_input', message);

/**
 * The sign-in request a page belongs to is gone (expired, finished, or never
 * this browser's): the person starts again from the app. Raised by the
 * interaction pages and src/oidc/interactions.ts with the internal reason,
 * which is never shown; the person reads the one message below.
 */
export class InteractionGone extends AppError {
  override name = 'InteractionGone';
  constructor(readonly reason: string) {
    super('session_not_found', 'This sign-in request has expired or was already completed. Go back to the app and start again.');
  }
}
