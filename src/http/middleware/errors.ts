import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, HTTP_STATUS } from '../../errors';
import type { Logger } from '../../logger';

/** Unknown routes answer a JSON 404 like every other error. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `No route for ${req.method} ${req.path}`));
};

/** Maps every error to `{ error: code, message }` and a status; only 5xx are logged with their stack. */
export const errorHandler = (logger: Logger): ErrorRequestHandler => (error: unknown, req, res, _next) => {
  let appError: AppError;
  if (error instanceof AppError) {
    appError = error;
  } else if (isClientError(error)) {
    // Body parser (bad JSON, too large) and router (undecodable %-escapes in the path) refusals.
    const message = error.type === 'entity.too.large' ? 'Request body is too large'
      : error.type === 'entity.parse.failed' ? 'Request body is not valid JSON'
        : error instanceof URIError ? 'The request path holds an invalid %-escape'
          : 'The request is malformed';
    appError = new AppError('invalid_request', message);
  } else {
    appError = new AppError('internal', 'Something went wrong on our side', {}, { cause: error });
  }
  const status = HTTP_STATUS[appError.code];
  if (status >= 500) logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
  const details = appError.code === 'internal' ? {} : appError.details;
  res.status(status).json({ error: appError.code, message: appError.message, ...details });
};

const isClientError = (error: unknown): error is { type?: string; status: number } =>
  typeof error === 'object' && error !== null && 'status' in error && typeof (error as { status: unknown }).status === 'number'
  && (error as { status: number }).status >= 400 && (error as { status: number }).status < 500;
