export type ErrorCode =
  | 'invalid_request' // the caller sent something we cannot accept: fix the request
  | 'unauthenticated' // no verified portal for this request
  | 'not_found'
  | 'conflict' // the same action is already in progress: retry shortly
  | 'internal';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_request: 400,
  unauthenticated: 401,
  not_found: 404,
  conflict: 409,
  internal: 500,
};
