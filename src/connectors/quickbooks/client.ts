import { z } from 'zod';
import { SourceError } from '../types';

// A thin client of the QuickBooks Online Accounting API over Node's fetch (Intuit publishes no Node client for
// the data API; intuit-oauth covers the OAuth dance only). GET requests with `Accept: application/json` and the
// access token as a Bearer; the company (realm) is in every path.

/** Intuit's current minor version of the accounting API (anything lower is ignored since August 2025). */
export const MINOR_VERSION = 75;

export type QuickBooksClientOptions = {
  /** Origin of the accounting API (config.accounting.quickbooks.apiUrl), without a trailing slash. */
  apiUrl: string;
  /** The company (realm) id; `tenantId` is accepted for it (the sync registry's name). */
  realmId?: string;
  tenantId?: string | null;
  /** A valid access token; asked again once when the API refuses one (it may have been refreshed meanwhile). */
  credentials: () => Promise<string>;
  minorVersion?: number;
  /**
   * Attempts after the first on 429, 5xx and network failures, before a retryable SourceError. A wait longer
   * than `maxWaitMs` is not taken here: the SourceError carries it to the sync engine, which decides.
   */
  maxRetries?: number;
  maxWaitMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Waits between attempts (tests pass one that records the waits instead of sleeping). */
  sleep?: (ms: number) => Promise<void>;
};

export type QueryAnswer = { rows: unknown[]; time: string | null };
export type CdcAnswer = { entities: Map<string, unknown[]>; time: string | null };

/** A Fault answered by the API (4xx other than 401/429): the request itself is refused. */
export class QuickBooksFault extends SourceError {
  constructor(readonly status: number, readonly faults: { message: string; detail: string | null; code: string | null }[], readonly faultType: string | null) {
    super('quickbooks', `QuickBooks answered ${status}: ${faults.map((f) => [f.message, f.detail].filter(Boolean).join(' — ')).join('; ') || 'no detail'}`, false);
    this.name = 'QuickBooksFault';
  }
}

// https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes
const FaultBody = z.object({
  Fault: z.object({
    Error: z.array(z.object({ Message: z.string().optional(), Detail: z.string().optional(), code: z.string().optional() })).default([]),
    type: z.string().optional(),
  }),
});

const QueryBody = z.object({ QueryResponse: z.record(z.string(), z.unknown()), time: z.string().optional() });
const CdcBody = z.object({
  CDCResponse: z.array(z.object({ QueryResponse: z.array(z.record(z.string(), z.unknown())).optional() })),
  time: z.string().optional(),
});

const MAX_CONCURRENT = 10;
const PER_MINUTE = 500;
const MINUTE_MS = 60_000;

/**
 * Intuit's limits per app and company: 500 requests a minute and 10 at a time. One limiter per company in the
 * process keeps every connector of that company within them (other processes are kept in line by 429s).
 */
class RealmLimiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private readonly started: number[] = [];

  async acquire(sleep: (ms: number) => Promise<void>): Promise<void> {
    while (this.running >= MAX_CONCURRENT) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.running += 1;
    for (;;) {
      const now = Date.now();
      while (this.started.length > 0 && (this.started[0] as number) <= now - MINUTE_MS) this.started.shift();
      if (this.started.length < PER_MINUTE) break;
      await sleep((this.started[0] as number) + MINUTE_MS - now);
    }
    this.started.push(Date.now());
  }

  release(): void {
    this.running -= 1;
    this.queue.shift()?.();
  }
}

const limiters = new Map<string, RealmLimiter>();
const limiterOf = (apiUrl: string, realmId: string): RealmLimiter => {
  const key = `${apiUrl}|${realmId}`;
  let limiter = limiters.get(key);
  if (!limiter) {
    limiter = new RealmLimiter();
    limiters.set(key, limiter);
  }
  return limiter;
};

/** Retry-After in ms (delta seconds or an HTTP date), or null when absent or unreadable. */
export const retryAfterMs = (header: string | null, now = Date.now()): number | null => {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
};

// Exponential backoff with jitter when the API gives no Retry-After (Intuit documents none on its 429s).
const backoffMs = (attempt: number): number => Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const Options = z.object({
  apiUrl: z.string().url('apiUrl must be a URL').transform((url) => url.replace(/\/+$/, '')),
  realmId: z.string({ error: 'realmId (the company id) is required' }).regex(/^\d{1,32}$/, 'realmId must be the company id (digits)'),
  minorVersion: z.number().int().positive().default(MINOR_VERSION),
  maxRetries: z.number().int().min(0).max(10).default(2),
  maxWaitMs: z.number().int().min(0).default(10_000),
  timeoutMs: z.number().int().positive().default(60_000),
});

export type QuickBooksClient = {
  readonly realmId: string;
  /** Runs a query (https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries). */
  query(entity: string, statement: string): Promise<QueryAnswer>;
  /** Change Data Capture (https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture). */
  cdc(entities: readonly string[], changedSince: string): Promise<CdcAnswer>;
  /** The company's preferences (home currency). */
  preferences(): Promise<unknown>;
};

export const createQuickBooksClient = (options: QuickBooksClientOptions): QuickBooksClient => {
  const parsed = Options.safeParse({ ...options, realmId: options.realmId ?? options.tenantId ?? undefined });
  if (!parsed.success) throw new Error(`QuickBooks client options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { apiUrl, realmId, minorVersion, maxRetries, maxWaitMs, timeoutMs } = parsed.data;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? realSleep;
  const limiter = limiterOf(apiUrl, realmId);

  const failure = (message: string, retryable: boolean, wait: number | null, cause?: unknown): SourceError =>
    new SourceError('quickbooks', message, retryable, wait, cause === undefined ? undefined : { cause });

  const get = async (path: string, params: Record<string, string>): Promise<unknown> => {
    const url = new URL(`${apiUrl}/v3/company/${realmId}/${path}`);
    for (const [name, value] of Object.entries({ ...params, minorversion: String(minorVersion) })) url.searchParams.set(name, value);
    // Asked before every request: the sync engine refreshes the token when it is about to expire.
    let token = await options.credentials();
    let askedAgain = false;
    for (let attempt = 0; ; attempt += 1) {
      let answer: { response: Response; text: string } | { error: unknown };
      await limiter.acquire(sleep);
      try {
        const response = await doFetch(url, {
          headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(timeoutMs),
        });
        answer = { response, text: await response.text() };
      } catch (error) {
        answer = { error };
      } finally {
        limiter.release();
      }
      if ('error' in answer) {
        const wait = backoffMs(attempt);
        if (attempt < maxRetries && wait <= maxWaitMs) {
          await sleep(wait);
          continue;
        }
        throw failure(`QuickBooks could not be reached (${path}): ${(answer.error as Error).message}`, true, wait, answer.error);
      }
      const { response, text } = answer;
      if (response.ok) {
        try {
          return JSON.parse(text) as unknown;
        } catch (error) {
          throw failure(`QuickBooks answered ${path} with a body that is not JSON`, false, null, error);
        }
      }
      if (response.status === 401 && !askedAgain) {
        // The token may have been refreshed since it was read: ask once more.
        askedAgain = true;
        const previous = token;
        token = await options.credentials();
        if (token !== previous) {
          attempt -= 1;
          continue;
        }
      }
      if (response.status === 429 || response.status >= 500) {
        const wait = (response.status === 429 ? retryAfterMs(response.headers.get('retry-after')) : null) ?? backoffMs(attempt);
        if (attempt < maxRetries && wait <= maxWaitMs) {
          await sleep(wait);
          continue;
        }
        throw failure(response.status === 429
          ? `QuickBooks rate limit reached for company ${realmId} (HTTP 429)`
          : `QuickBooks failed (HTTP ${response.status}) on ${path}`, true, wait);
      }
      if (response.status === 401 || response.status === 403) {
        throw failure(`QuickBooks refused the access token for company ${realmId} (HTTP ${response.status}): reconnect QuickBooks`, false, null);
      }
      let fault: z.infer<typeof FaultBody> | null = null;
      try {
        const body = FaultBody.safeParse(JSON.parse(text));
        fault = body.success ? body.data : null;
      } catch {
        fault = null;
      }
      throw new QuickBooksFault(response.status,
        (fault?.Fault.Error ?? []).map((e) => ({ message: e.Message ?? '', detail: e.Detail ?? null, code: e.code ?? null })),
        fault?.Fault.type ?? null);
    }
  };

  const invalid = (what: string, error: z.ZodError): SourceError =>
    failure(`QuickBooks answered ${what} in an unexpected shape: ${error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, false, null);

  return {
    realmId,
    async query(entity, statement) {
      const body = QueryBody.safeParse(await get('query', { query: statement }));
      if (!body.success) throw invalid('a query', body.error);
      const rows = body.data.QueryResponse[entity] ?? [];
      if (!Array.isArray(rows)) throw failure(`QuickBooks answered a query with QueryResponse.${entity} that is not a list`, false, null);
      return { rows, time: body.data.time ?? null };
    },
    async cdc(entities, changedSince) {
      const body = CdcBody.safeParse(await get('cdc', { entities: entities.join(','), changedSince }));
      if (!body.success) throw invalid('Change Data Capture', body.error);
      const found = new Map<string, unknown[]>();
      for (const response of body.data.CDCResponse) {
        for (const part of response.QueryResponse ?? []) {
          for (const entity of entities) {
            const rows = part[entity];
            if (Array.isArray(rows)) found.set(entity, [...(found.get(entity) ?? []), ...rows]);
          }
        }
      }
      return { entities: found, time: body.data.time ?? null };
    },
    async preferences() {
      return get('preferences', {});
    },
  };
};
