/**
 * Retries of HubSpot calls. Clients are built with one attempt per call (see hubspot/client.ts), so callers
 * wrap each call in `withHubSpotRetry`:
 * - 429: waits as long as the Retry-After header says (seconds), else backs off exponentially; a 429 of the
 *   DAILY policy is not retried (the limit resets the next day, not in seconds);
 * - 5xx and network failures (connection refused or reset, timeouts): exponential backoff with jitter;
 * - anything else (400, 401, 403, 404, 409…) is thrown at once.
 * After `maxAttempts` attempts the last error is thrown.
 */

/** What the SDK throws for an HTTP error: every generated API module has its own `ApiException` class. */
export type HubSpotHttpError = Error & { code: number; body: unknown; headers: Record<string, string> };

// Errors are recognised by shape, not `instanceof`: fetch's errors come from another realm under some
// runtimes (jest's VM contexts), and each SDK module has its own ApiException class.
type ErrorLike = { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
const asErrorLike = (value: unknown): ErrorLike | null => (typeof value === 'object' && value !== null ? value as ErrorLike : null);

export const isHubSpotHttpError = (error: unknown): error is HubSpotHttpError => {
  const e = asErrorLike(error);
  return e !== null && typeof e.code === 'number' && typeof (error as { headers?: unknown }).headers === 'object' && 'body' in (error as object);
};

/** The HTTP status of an SDK error, or null for a failure without a response. */
export const hubspotErrorStatus = (error: unknown): number | null => (isHubSpotHttpError(error) ? error.code : null);

const headerValue = (headers: Record<string, string> | undefined, name: string): string | undefined => {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
};

/** Retry-After of an SDK error in milliseconds (only the seconds form is used by HubSpot), or null. */
export const retryAfterMs = (error: unknown): number | null => {
  if (!isHubSpotHttpError(error)) return null;
  const value = headerValue(error.headers, 'retry-after')?.trim();
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return null;
  return Math.round(Number(value) * 1000);
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** A failure before any HTTP response: fetch's "fetch failed" TypeError, a socket error, a timeout. */
export const isNetworkError = (error: unknown): boolean => {
  const e = asErrorLike(error);
  if (e === null || isHubSpotHttpError(error)) return false;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  if (NETWORK_CODES.has(String(e.code))) return true;
  if (e.name === 'TypeError' && e.message === 'fetch failed') return true;
  return NETWORK_CODES.has(String(asErrorLike(e.cause)?.code));
};

const isDailyLimit = (error: HubSpotHttpError): boolean => {
  const body = error.body as { policyName?: unknown } | null;
  return typeof body === 'object' && body !== null && body.policyName === 'DAILY';
};

export type RetryDecision = { retry: false } | { retry: true; reason: '429' | '5xx' | 'network'; retryAfterMs: number | null };

/** Whether an error is worth another attempt, and why. */
export const classifyHubSpotError = (error: unknown): RetryDecision => {
  if (isHubSpotHttpError(error)) {
    if (error.code === 429) return isDailyLimit(error) ? { retry: false } : { retry: true, reason: '429', retryAfterMs: retryAfterMs(error) };
    if (error.code >= 500 && error.code <= 599) return { retry: true, reason: '5xx', retryAfterMs: retryAfterMs(error) };
    return { retry: false };
  }
  return isNetworkError(error) ? { retry: true, reason: 'network', retryAfterMs: null } : { retry: false };
};

export type RetryEvent = {
  /** The attempt that failed (1 = the first). */
  attempt: number;
  /** How long the next attempt waits. */
  delayMs: number;
  reason: '429' | '5xx' | 'network';
  status: number | null;
  error: unknown;
};

export type RetryOptions = {
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** How to wait (default setTimeout); tests pass a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /** Called before each wait. */
  onRetry?: (event: RetryEvent) => void;
  /** First backoff step (default 500 ms); step n waits base × 2^(n−1), capped, with jitter. */
  baseDelayMs?: number;
  /** Longest backoff step (default 30 s). Retry-After is honoured as given, even when longer. */
  maxDelayMs?: number;
  /** Random source in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
};

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The backoff before attempt `attempt + 1`: base × 2^(attempt−1), at most maxDelay, jittered to 50–100 %. */
export const backoffMs = (attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number => {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
};

/** Runs `fn` (given the attempt number, 1-based) until it succeeds, fails for good, or runs out of attempts. */
export const withHubSpotRetry = async <T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> => {
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be a whole number ≥ 1 (got ${maxAttempts})`);
  const sleep = options.sleep ?? realSleep;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (error) {
      const decision = classifyHubSpotError(error);
      if (!decision.retry || attempt >= maxAttempts) throw error;
      const delayMs = decision.retryAfterMs ?? backoffMs(attempt, baseDelayMs, maxDelayMs, random);
      options.onRetry?.({ attempt, delayMs, reason: decision.reason, status: hubspotErrorStatus(error), error });
      await sleep(delayMs);
    }
  }
};
