// RFC 9457 problem details: every error of the JSON API is answered as
// application/problem+json. `type` names the kind of problem (a stable URN
// integrators can switch on), `detail` says what to fix. The routes throw
// AppErrors (src/errors.ts), through the factory below or from the services;
// problemBody is the one place one becomes a problem document.
import { AppError, type AppErrorStatus, type FieldError } from '../errors.ts';

export type { FieldError };
export const PROBLEM_TYPE = 'application/problem+json';

const TITLES: Record<AppErrorStatus | 500, [slug: string, title: string]> = {
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

/**
 * The problem document for `err`, with its status and headers; `instance` is
 * the request's path, `request_id` the X-Request-ID it was answered with.
 * `err` undefined: the generic 500.
 */
export function problemBody(err: AppError | undefined, instance: string, requestId: string | undefined) {
  const status = err ? err.status : 500;
  const [slug, title] = TITLES[status];
  const details = err?.details ?? {};
  const body: Record<string, unknown> = {
    type: problemTypeUri(details.kind ?? slug),
    title: details.title ?? title,
    status,
    detail: err ? err.message : 'something went wrong on our side; retry later, and quote the request_id if it persists',
    instance,
    ...(requestId ? { request_id: requestId } : {}),
    ...(details.fields ? { errors: details.fields } : {}),
  };
  return { status, headers: details.headers ?? {}, body };
}

/** The typed factory: one function per status the API answers. */
export const problem = {
  badRequest: (detail: string, fields?: FieldError[]) =>
    new AppError('invalid_input', detail, fields ? { kind: 'validation', title: 'Invalid request', fields } : {}),
  unauthorized: (detail: string, headers?: Record<string, string>) => new AppError('unauthorized', detail, { headers }),
  forbidden: (detail: string, headers?: Record<string, string>) => new AppError('forbidden', detail, { headers }),
  notFound: (detail: string) => new AppError('not_found', detail),
  methodNotAllowed: (detail: string, allow: string[]) => new AppError('method_not_allowed', detail, { headers: { Allow: allow.join(', ') } }),
  conflict: (detail: string) => new AppError('conflict', detail),
  preconditionFailed: (detail: string) => new AppError('precondition_failed', detail),
  tooLarge: (detail: string) => new AppError('too_large', detail),
  unsupportedMediaType: (detail: string) => new AppError('unsupported_media_type', detail),
  preconditionRequired: (detail: string) => new AppError('precondition_required', detail),
  tooManyRequests: (detail: string, retryAfterSeconds: number) =>
    new AppError('too_many_requests', detail, { headers: { 'Retry-After': String(retryAfterSeconds) } }),
};
