import { backoffMs, classifyHubSpotError, hubspotErrorStatus, realSleep } from './http-retry';

/**
 * Every HubSpot call of a portal goes through one caller: it paces calls below the account's burst limit
 * (a rolling window, like HubSpot's TEN_SECONDLY_ROLLING policy), waits out a 429 for everyone (Retry-After),
 * retries 5xx and network failures with exponential backoff and jitter, and counts what happened.
 */
export type CallStats = { calls: number; rateLimited: number; serverErrors: number; networkErrors: number };

export type HubSpotCaller = {
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly stats: CallStats;
};

export type CallerOptions = {
  /** The account's limit in calls per window (HubSpot: 110 per 10 s for OAuth apps, 100/190 for private apps). */
  callsPerWindow: number;
  windowMs?: number;
  /** Share of the limit used, leaving room for other clients of the same account. */
  headroom?: number;
  /** Attempts per call for 5xx and network failures. 429s are waited out separately (up to maxRateLimitWaits). */
  maxAttempts?: number;
  maxRateLimitWaits?: number;
  baseDelayMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
};

/** HTTP status of an SDK error, or null for network and other errors. */
export const statusOf = hubspotErrorStatus;

export const createCaller = (options: CallerOptions): HubSpotCaller => {
  const windowMs = options.windowMs ?? 10_000;
  const budget = Math.max(1, Math.floor(options.callsPerWindow * (options.headroom ?? 0.9)));
  const maxAttempts = options.maxAttempts ?? 6;
  const maxRateLimitWaits = options.maxRateLimitWaits ?? 10;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const sent: number[] = []; // start times of the calls in the current window, oldest first
  let pausedUntil = 0;
  const stats: CallStats = { calls: 0, rateLimited: 0, serverErrors: 0, networkErrors: 0 };
  let queue: Promise<void> = Promise.resolve();

  /** Waits for a slot in the window; slots are handed out in call order. */
  const slot = (): Promise<void> => {
    const next = queue.then(async () => {
      for (;;) {
        const t = now();
        while (sent.length > 0 && (sent[0] as number) <= t - windowMs) sent.shift();
        const wait = Math.max(pausedUntil - t, sent.length >= budget ? (sent[0] as number) + windowMs - t : 0);
        if (wait <= 0) break;
        await sleep(wait);
      }
      sent.push(now());
    });
    queue = next.catch(() => undefined);
    return next;
  };

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    let failures = 0;
    let rateLimitWaits = 0;
    for (;;) {
      await slot();
      stats.calls += 1;
      try {
        return await fn();
      } catch (error) {
        const decision = classifyHubSpotError(error);
        if (!decision.retry) throw error;
        if (decision.reason === '429') {
          stats.rateLimited += 1;
          rateLimitWaits += 1;
          if (rateLimitWaits > maxRateLimitWaits) throw error;
          pausedUntil = Math.max(pausedUntil, now() + (decision.retryAfterMs ?? windowMs));
          continue;
        }
        if (decision.reason === '5xx') stats.serverErrors += 1;
        else stats.networkErrors += 1;
        failures += 1;
        if (failures >= maxAttempts) throw error;
        await sleep(Math.max(decision.retryAfterMs ?? 0, backoffMs(failures, baseDelayMs, 30_000, Math.random)));
      }
    }
  };

  return { call, stats };
};
