import { hubspot, logger } from '@hubspot/ui-extensions';
import type { z } from 'zod';
import { SERVICE_BASE_URL } from './service-url.ts';

// Every call a card makes to the ARBridge service goes through here: one place knows the base URL, sends the request
// through `hubspot.fetch` (which signs it), and parses the answer with the card API contract.

let baseUrl = SERVICE_BASE_URL;

/** The service base URL the cards call (no trailing slash). */
export const apiBaseUrl = (): string => baseUrl;

/**
 * Points the cards at another service base URL, e.g. an end-to-end test's server. The upload tree gets its URL from
 * `service-url.ts` instead; HubSpot only lets cards fetch https URLs listed in the app's permittedUrls.fetch.
 */
export const setApiBaseUrl = (url: string): void => {
  const parsed = new URL(url);
  if (parsed.search || parsed.hash) throw new Error(`setApiBaseUrl: ${url} must not carry a query or fragment`);
  baseUrl = `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
};

/** Restores the base URL of `service-url.ts`. */
export const resetApiBaseUrl = (): void => {
  baseUrl = SERVICE_BASE_URL;
};

export const apiUrl = (pathAndQuery: string): string => `${baseUrl}${pathAndQuery}`;

export type CardApiErrorKind = 'network' | 'http' | 'invalid_response';

/** Field → problems, as the service names them in a 400 answer (`fields`). */
export type FieldErrors = Record<string, string[]>;

/**
 * A failed card API call. `message` is safe to show; the details went to the logger. `fields` holds the
 * problems per request field when the service refused the request's content (HTTP 400).
 */
export class CardApiError extends Error {
  constructor(readonly kind: CardApiErrorKind, readonly status: number | null, message: string, readonly fields: FieldErrors = {}) {
    super(message);
    this.name = 'CardApiError';
  }
}

const fieldErrorsOf = (json: unknown): FieldErrors => {
  const fields = typeof json === 'object' && json !== null ? (json as { fields?: unknown }).fields : undefined;
  if (typeof fields !== 'object' || fields === null) return {};
  const out: FieldErrors = {};
  for (const [name, problems] of Object.entries(fields)) {
    if (Array.isArray(problems)) out[name] = problems.filter((p): p is string => typeof p === 'string');
  }
  return out;
};

const SAFE_MESSAGES: Record<CardApiErrorKind, string> = {
  network: 'ARBridge could not be reached.',
  http: 'ARBridge could not answer this request.',
  invalid_response: 'ARBridge sent an answer this card does not understand.',
};

const fail = (kind: CardApiErrorKind, status: number | null, detail: string, fields: FieldErrors = {}): never => {
  logger.error(`ARBridge card API: ${kind}${status === null ? '' : ` ${status}`}: ${detail}`);
  const message = Object.keys(fields).length > 0 ? 'ARBridge could not accept this: check the fields marked.' : SAFE_MESSAGES[kind];
  throw new CardApiError(kind, status, message, fields);
};

export type PostBody = { [key: string]: unknown };

/** GETs (or POSTs, or with `method` PUTs, `body` to) `pathAndQuery` on the service and returns the answer parsed by `schema`. */
export const callCardApi = async <T>(pathAndQuery: string, schema: z.ZodType<T>, body?: PostBody, method: 'POST' | 'PUT' = 'POST'): Promise<T> => {
  const url = apiUrl(pathAndQuery);
  let response: Response;
  try {
    response = await hubspot.fetch(url, body === undefined ? { method: 'GET' } : { method, body });
  } catch (error) {
    return fail('network', null, `${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    return fail(response.ok ? 'invalid_response' : 'http', response.status, `${url}: the body is not JSON (${String(error)})`);
  }
  if (!response.ok) {
    const detail = typeof json === 'object' && json !== null && 'message' in json ? String((json as { message: unknown }).message) : '';
    return fail('http', response.status, `${url}: ${detail}`, response.status === 400 ? fieldErrorsOf(json) : {});
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return fail('invalid_response', response.status, `${url}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
};

/** A fresh idempotency key for one user action (letters, digits and `-`, as the card API accepts). */
export const newIdempotencyKey = (): string => {
  const cryptoApi = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (cryptoApi?.randomUUID) return cryptoApi.randomUUID();
  const random = () => Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `${Date.now().toString(16)}-${random()}-${random()}-${random()}`;
};
