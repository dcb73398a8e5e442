import Stripe from 'stripe';
import { stripeClientOptions } from '../../accounting/stripe-auth';
import { SourceError } from '../types';

/**
 * The stripe SDK client the connector reads with, and how its failures become SourceErrors. The SDK retries
 * connection errors, 409 and 5xx itself (`maxNetworkRetries`, backoff from 0.5 s); it does not retry 429, so
 * `call` waits out a 429's Retry-After (a few times, when short) and otherwise throws a retryable SourceError
 * carrying it.
 */

export type StripeClientSettings = {
  /** STRIPE_API_URL: https://api.stripe.com, or a fake's origin. */
  apiUrl: string;
  apiKey: string;
  /** acct_…: every request acts for this connected account (`Stripe-Account`). */
  account: string | null;
  apiVersion?: string;
  maxNetworkRetries: number;
  timeoutMs: number;
};

export const createStripeClient = (settings: StripeClientSettings): Stripe =>
  new Stripe(settings.apiKey, {
    ...stripeClientOptions(settings.apiUrl),
    // The SDK's types know its pinned version only; another one is the caller's choice.
    ...(settings.apiVersion ? { apiVersion: settings.apiVersion as Stripe.LatestApiVersion } : {}),
    maxNetworkRetries: settings.maxNetworkRetries,
    timeout: settings.timeoutMs,
    telemetry: false,
    ...(settings.account ? { stripeAccount: settings.account } : {}),
  });

export type RateLimitPolicy = {
  /** 429s waited out per request before giving up with a SourceError. */
  retries: number;
  /** A longer Retry-After is not waited out here: the SourceError carries it to the caller. */
  maxWaitMs: number;
};

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/** Retry-After (seconds or an HTTP date) in ms, or null. */
export const retryAfterMs = (headers: Record<string, string> | undefined, nowMs: number): number | null => {
  const value = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (value === undefined) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
};

export const isMissing = (error: unknown): boolean =>
  error instanceof Stripe.errors.StripeInvalidRequestError && (error.statusCode === 404 || error.code === 'resource_missing');

/** A Stripe failure as a SourceError: retryable for network, 409, 5xx and 429; not for refused keys or bad requests. */
export const toSourceError = (error: unknown, what: string): SourceError => {
  if (error instanceof SourceError) return error;
  const detail = firstLine(error);
  if (error instanceof Stripe.errors.StripeAuthenticationError) {
    return new SourceError('stripe', `Stripe refused the API key reading ${what}: ${detail}`, false, null, { cause: error });
  }
  if (error instanceof Stripe.errors.StripePermissionError) {
    return new SourceError('stripe', `The Stripe key may not read ${what}: ${detail}`, false, null, { cause: error });
  }
  if (error instanceof Stripe.errors.StripeConnectionError) {
    return new SourceError('stripe', `Stripe could not be reached reading ${what}: ${detail}`, true, null, { cause: error });
  }
  if (error instanceof Stripe.errors.StripeError) {
    const status = error.statusCode ?? 0;
    const retryable = status === 409 || status === 429 || status >= 500;
    return new SourceError('stripe', `Stripe answered HTTP ${status || 'error'} reading ${what}: ${detail}`, retryable, null, { cause: error });
  }
  return new SourceError('stripe', `Reading ${what} from Stripe failed: ${detail}`, true, null, { cause: error });
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one SDK request, waiting out short 429s; failures become SourceErrors. */
export const call = async <T>(what: string, request: () => Promise<T>, policy: RateLimitPolicy): Promise<T> => {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeRateLimitError)) throw toSourceError(error, what);
      const wait = retryAfterMs(error.headers, Date.now()) ?? 1000 * 2 ** attempt;
      if (attempt < policy.retries && wait <= policy.maxWaitMs) {
        await sleep(wait);
        continue;
      }
      return Promise.reject(new SourceError('stripe', `Stripe's rate limit (HTTP 429) reading ${what}; retry in ${wait} ms`, true, wait, { cause: error }));
    }
  }
};
