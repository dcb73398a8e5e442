import { randomUUID } from 'node:crypto';

/** An HTTP answer of the fake: status, JSON body (none for 204) and extra headers. */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/** Thrown by handlers; becomes the answer as is. */
export class HubSpotHttpError extends Error {
  constructor(readonly reply: Reply) {
    super(`HubSpot fake ${reply.status}`);
  }
}

/** HubSpot's error body: `{status: 'error', message, correlationId, category, ...}`. */
export const errorBody = (category: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  status: 'error', message, correlationId: randomUUID(), category, ...extra,
});

export const apiError = (status: number, category: string, message: string, extra: Record<string, unknown> = {}): HubSpotHttpError =>
  new HubSpotHttpError({ status, body: errorBody(category, message, extra) });

export const validationError = (message: string, extra: Record<string, unknown> = {}): HubSpotHttpError =>
  apiError(400, 'VALIDATION_ERROR', message, extra);

export const notFound = (message = 'resource not found'): HubSpotHttpError => apiError(404, 'OBJECT_NOT_FOUND', message);

/** One entry of a batch answer's `errors` (the SDK's StandardError). */
export const standardError = (category: string, message: string, context: Record<string, string[]> = {}): Record<string, unknown> => ({
  status: 'error', category, message, context, errors: [], links: {},
});
