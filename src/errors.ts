// Application errors carry a stable code and an HTTP status; the message is
// safe to show to the person or operator (never a secret).
export type AppErrorCode = 'not_found' | 'conflict' | 'invalid_input' | 'csrf';

const statusFor: Record<AppErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  invalid_input: 400,
  csrf: 403,
};

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: AppErrorCode,
    message: string,
  ) {
    super(message);
    this.status = statusFor[code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string) => new AppError('conflict', message);
export const invalidInput = (message: string) => new AppError('invalid_input', message);
