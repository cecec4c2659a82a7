// RFC 9457 problem details: every error of the JSON API is one of these,
// answered as application/problem+json. `type` names the kind of problem
// (a stable URN integrators can switch on), `detail` says what to fix.
export const PROBLEM_TYPE = 'application/problem+json';

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

export type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 409 | 412 | 413 | 415 | 428 | 429 | 500;

const TITLES: Record<ProblemStatus, [slug: string, title: string]> = {
  400: ['invalid-request', 'Bad Request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not Found'],
  405: ['method-not-allowed', 'Method Not Allowed'],
  409: ['conflict', 'Conflict'],
  412: ['precondition-failed', 'Precondition Failed'],
  413: ['too-large', 'Content Too Large'],
  415: ['unsupported-media-type', 'Unsupported Media Type'],
  428: ['precondition-required', 'Precondition Required'],
  429: ['too-many-requests', 'Too Many Requests'],
  500: ['server-error', 'Internal Server Error'],
};

export const problemTypeUri = (slug: string) => `urn:latchkey:problem:${slug}`;

export interface ProblemInit {
  /** A more specific kind than the status's default, e.g. `validation` (becomes urn:latchkey:problem:validation). */
  kind?: string;
  title?: string;
  errors?: FieldError[];
  /** Response headers, e.g. WWW-Authenticate, Retry-After, Allow. */
  headers?: Record<string, string>;
  /** Extension members (RFC 9457 §3.2). */
  extra?: Record<string, unknown>;
}

export class Problem extends Error {
  override name = 'Problem';
  readonly type: string;
  readonly title: string;
  readonly errors?: FieldError[];
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(
    readonly status: ProblemStatus,
    readonly detail: string,
    init: ProblemInit = {},
  ) {
    super(detail);
    const [slug, title] = TITLES[status];
    this.type = problemTypeUri(init.kind ?? slug);
    this.title = init.title ?? title;
    this.errors = init.errors;
    this.headers = init.headers ?? {};
    this.extra = init.extra ?? {};
  }

  /** The response body; `instance` is the request's path, `request_id` the X-Request-ID it was answered with. */
  body(instance: string, requestId: string | undefined): Record<string, unknown> {
    return {
      ...this.extra,
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.detail,
      instance,
      ...(requestId ? { request_id: requestId } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

/** The typed factory: one function per status the API answers. */
export const problem = {
  badRequest: (detail: string, errors?: FieldError[]) => new Problem(400, detail, errors ? { kind: 'validation', title: 'Invalid request', errors } : {}),
  unauthorized: (detail: string, headers?: Record<string, string>) => new Problem(401, detail, { headers }),
  forbidden: (detail: string, headers?: Record<string, string>) => new Problem(403, detail, { headers }),
  notFound: (detail: string) => new Problem(404, detail),
  methodNotAllowed: (detail: string, allow: string[]) => new Problem(405, detail, { headers: { Allow: allow.join(', ') } }),
  conflict: (detail: string) => new Problem(409, detail),
  preconditionFailed: (detail: string) => new Problem(412, detail),
  tooLarge: (detail: string) => new Problem(413, detail),
  unsupportedMediaType: (detail: string) => new Problem(415, detail),
  preconditionRequired: (detail: string) => new Problem(428, detail),
  tooManyRequests: (detail: string, retryAfterSeconds: number) => new Problem(429, detail, { headers: { 'Retry-After': String(retryAfterSeconds) } }),
};
