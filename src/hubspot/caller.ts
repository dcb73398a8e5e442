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

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** HTTP status of an SDK error (ApiException has `code`), or null for network and other errors. */
export const statusOf = (error: unknown): number | null => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : null;
};

const header = (error: unknown, name: string): string | undefined => {
  const headers = (error as { headers?: Record<string, string> } | null)?.headers;
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
};

/** Retry-After in ms (seconds or an HTTP date), or null when absent or unreadable. */
export const retryAfterMs = (error: unknown, now: number): number | null => {
  const value = header(error, 'retry-after');
  if (value === undefined) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
};

const isNetworkError = (error: unknown): boolean => {
  if (statusOf(error) !== null) return false;
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''} ${String((error as { cause?: { code?: string } })?.cause?.code ?? '')}`;
  return /fetch failed|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|UND_ERR|network/i.test(text);
};

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
        const status = statusOf(error);
        if (status === 429 && rateLimitWaits < maxRateLimitWaits) {
          stats.rateLimited += 1;
          rateLimitWaits += 1;
          const wait = retryAfterMs(error, now()) ?? windowMs;
          pausedUntil = Math.max(pausedUntil, now() + wait);
          continue;
        }
        const retriable = (status !== null && status >= 500) || isNetworkError(error);
        if (!retriable) throw error;
        if (status !== null) stats.serverErrors += 1;
        else stats.networkErrors += 1;
        failures += 1;
        if (failures >= maxAttempts) throw error;
        const backoff = baseDelayMs * 2 ** (failures - 1);
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  };

  return { call, stats };
};
